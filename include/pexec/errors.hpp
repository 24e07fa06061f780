#pragma once
/// The exception types of pexec's futures library, named and arranged as in Python's
/// concurrent.futures: catching std::runtime_error also catches a broken pool.

#include <stdexcept>
#include <string>
#include <utility>

namespace pexec {

/// Raised by result()/exception() of a future that was cancelled. Its message is empty.
class CancelledError : public std::runtime_error {
 public:
  CancelledError() : std::runtime_error("") {}
};

/// Raised when a timeout passes: empty message from result()/exception()/map(),
/// "N (of M) futures unfinished" from as_completed().
class TimeoutError : public std::runtime_error {
 public:
  explicit TimeoutError(const std::string& message = "") : std::runtime_error(message) {}
};

/// Raised by set_result()/set_exception() on a future that is already done.
class InvalidStateError : public std::runtime_error {
 public:
  explicit InvalidStateError(const std::string& message) : std::runtime_error(message) {}
};

/// A pool that can no longer run work: its futures fail with it and submit() throws it.
class BrokenExecutor : public std::runtime_error {
 public:
  explicit BrokenExecutor(const std::string& message) : std::runtime_error(message) {}
};

/// A ThreadPoolExecutor whose worker initializer failed.
class BrokenThreadPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

/// A ProcessPoolExecutor one of whose worker processes died without sending a result.
class BrokenProcessPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
  /// `cause`: how the worker process ended, as CPython's __cause__ says it ("A worker process
  /// terminated abruptly with exit code 99" / "... by signal SIGKILL").
  BrokenProcessPool(const std::string& message, std::string cause)
      : BrokenExecutor(message), cause_(std::move(cause)) {}
  /// How the worker that broke the pool ended; empty if unknown.
  const std::string& cause() const { return cause_; }

 private:
  std::string cause_;
};

/// An exception thrown by a task in a worker process, carried back to the caller: the remote
/// exception's (demangled) type name and its what(). what() reads "TYPE: MESSAGE".
/// remote_traceback() is what the worker could say of it, as CPython's _RemoteTraceback (the
/// cause of the re-raised exception there): the worker and the task, then the exception with
/// its causes (std::throw_with_nested levels), innermost first. C++ keeps no stack of where an
/// exception was thrown, so there are no file and line entries.
class RemoteError : public std::runtime_error {
 public:
  RemoteError(std::string remote_type, std::string remote_message, std::string remote_traceback = "")
      : std::runtime_error(remote_type + ": " + remote_message),
        remote_type_(std::move(remote_type)),
        remote_message_(std::move(remote_message)),
        remote_traceback_(std::move(remote_traceback)) {}
  const std::string& remote_type() const noexcept { return remote_type_; }
  const std::string& remote_message() const noexcept { return remote_message_; }
  const std::string& remote_traceback() const noexcept { return remote_traceback_; }

 private:
  std::string remote_type_;
  std::string remote_message_;
  std::string remote_traceback_;
};

}  // namespace pexec
