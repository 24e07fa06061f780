#pragma once

#include <atomic>
/// StopSignal: a flag that, once raised, stays raised and is readable as a file descriptor, so
/// that event loops can wait on it (it is an eventfd that is written and never read). Raising it
/// is async-signal-safe, so a signal handler may do it.

namespace pexec::cli {

class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  /// Raises the flag; safe in a signal handler.
  void raise() noexcept;
  /// Cheap enough for a transfer's progress callback.
  bool raised() const noexcept { return raised_.load(std::memory_order_relaxed); }
  /// Becomes readable (and stays so) once raised.
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
  std::atomic<bool> raised_{false};
};

/// The signal every running job in this process watches: when raised, each job's process group
/// is sent SIGTERM, then SIGKILL after its grace period.
StopSignal& running_jobs_stop();

}  // namespace pexec::cli
