#pragma once
/// Future<T>: the result of an asynchronous call, with the states, transitions and messages of
/// Python's concurrent.futures.Future. A Future is a handle: copies share one state and compare,
/// hash and order by it. A default-constructed Future is a fresh pending one that code may drive
/// by hand (set_running_or_notify_cancel, set_result, set_exception), as executors do.
///
/// The whole state machine is in detail::FutureCore below: every transition happens under its one
/// mutex, and done-callbacks always run after the lock is released.

#include <chrono>
#include <compare>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "pexec/detail/type_name.hpp"
#include "pexec/errors.hpp"
#include "pexec/logging.hpp"

namespace pexec {

/// Python's internal future states. CANCELLED futures become CANCELLED_AND_NOTIFIED when the
/// executor (or a hand-driving caller) acknowledges them with set_running_or_notify_cancel().
enum class FutureState { PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED };

/// The name Python gives each state in its messages (e.g. "FINISHED: <Future ...>").
inline const char* state_name(FutureState state) {
  switch (state) {
    case FutureState::PENDING:
      return "PENDING";
    case FutureState::RUNNING:
      return "RUNNING";
    case FutureState::CANCELLED:
      return "CANCELLED";
    case FutureState::CANCELLED_AND_NOTIFIED:
      return "CANCELLED_AND_NOTIFIED";
    case FutureState::FINISHED:
      return "FINISHED";
  }
  return "?";
}

/// A timeout in seconds; empty means no limit, zero or less means do not wait.
using Timeout = std::optional<double>;

namespace detail {

class FutureCore;

/// Receives the completions of the futures it is installed on (Python's _Waiter); wait() and
/// as_completed() install one. Called with the future's lock held: must not call back into it.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void add_result(FutureCore* future) = 0;
  virtual void add_exception(FutureCore* future) = 0;
  virtual void add_cancelled(FutureCore* future) = 0;
};

inline bool is_done(FutureState s) {
  return s == FutureState::CANCELLED || s == FutureState::CANCELLED_AND_NOTIFIED || s == FutureState::FINISHED;
}
inline bool is_cancelled(FutureState s) {
  return s == FutureState::CANCELLED || s == FutureState::CANCELLED_AND_NOTIFIED;
}

/// The untyped part of a future's shared state: the state machine, waiters and callbacks.
class FutureCore : public std::enable_shared_from_this<FutureCore> {
 public:
  using Callback = std::function<void(FutureCore&)>;
  virtual ~FutureCore() = default;

  bool cancel() {
    std::vector<Callback> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (state_ == FutureState::RUNNING || state_ == FutureState::FINISHED) return false;
      if (is_cancelled(state_)) return true;
      state_ = FutureState::CANCELLED;
      condition_.notify_all();
      callbacks.swap(callbacks_);
    }
    invoke_callbacks(callbacks);
    return true;
  }

  bool cancelled() const { return is_cancelled(state()); }
  bool running() const { return state() == FutureState::RUNNING; }
  bool done() const { return is_done(state()); }

  FutureState state() const {
    std::lock_guard lock(mutex_);
    return state_;
  }

  bool set_running_or_notify_cancel() {
    std::lock_guard lock(mutex_);
    if (state_ == FutureState::CANCELLED) {
      state_ = FutureState::CANCELLED_AND_NOTIFIED;
      for (Waiter* waiter : waiters_) waiter->add_cancelled(this);
      return false;
    }
    if (state_ == FutureState::PENDING) {
      state_ = FutureState::RUNNING;
      return true;
    }
    log_error("Future " + repr_locked() + " in unexpected state: " + state_name(state_));
    throw std::runtime_error("Future in unexpected state");
  }

  void set_exception(std::exception_ptr error) {
    if (!error) throw std::invalid_argument("set_exception needs a non-null exception_ptr");
    finish([&] { exception_ = std::move(error); }, true);
  }

  std::exception_ptr exception(Timeout timeout) {
    std::unique_lock lock = wait_done(timeout);
    if (is_cancelled(state_)) throw CancelledError();
    if (state_ == FutureState::FINISHED) return exception_;
    throw TimeoutError();
  }

  void add_done_callback(Callback callback) {
    {
      std::lock_guard lock(mutex_);
      if (!is_done(state_)) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    invoke_callback(callback);
  }

  /// Installs a waiter; a future that is already done reports to it at once, as Python's wait()
  /// counts futures already done before it installs its waiters.
  void install(Waiter* waiter) {
    std::lock_guard lock(mutex_);
    if (state_ == FutureState::CANCELLED_AND_NOTIFIED) {
      waiter->add_cancelled(this);
    } else if (state_ == FutureState::FINISHED) {
      exception_ ? waiter->add_exception(this) : waiter->add_result(this);
    } else {
      waiters_.push_back(waiter);
    }
  }

  void remove(Waiter* waiter) {
    std::lock_guard lock(mutex_);
    std::erase(waiters_, waiter);
  }

  std::string repr() const {
    std::lock_guard lock(mutex_);
    return repr_locked();
  }

 protected:
  /// Stores a value or exception and moves to FINISHED: set_result()/set_exception().
  template <class Store>
  void finish(Store store, bool is_exception) {
    std::vector<Callback> callbacks;
    {
      std::lock_guard lock(mutex_);
      if (is_done(state_)) throw InvalidStateError(std::string(state_name(state_)) + ": " + repr_locked());
      store();
      state_ = FutureState::FINISHED;
      for (Waiter* waiter : waiters_) is_exception ? waiter->add_exception(this) : waiter->add_result(this);
      condition_.notify_all();
      callbacks.swap(callbacks_);
    }
    invoke_callbacks(callbacks);
  }

  /// Blocks until done or the timeout passes; returns with the lock held, as Python checks the
  /// state once more after its condition wait.
  std::unique_lock<std::mutex> wait_done(Timeout timeout) {
    std::unique_lock lock(mutex_);
    auto finished = [this] { return is_done(state_); };
    if (finished()) return lock;
    if (!timeout) {
      condition_.wait(lock, finished);
    } else if (*timeout > 0) {
      condition_.wait_for(lock, std::chrono::duration<double>(std::min(*timeout, 1e9)), finished);
    }
    return lock;
  }

  virtual std::string result_type_name() const = 0;

  std::string repr_locked() const {
    char address[32];
    std::snprintf(address, sizeof address, "%p", static_cast<const void*>(this));
    std::string text = std::string("<Future at ") + address + " state=";
    switch (state_) {
      case FutureState::PENDING:
        text += "pending";
        break;
      case FutureState::RUNNING:
        text += "running";
        break;
      case FutureState::CANCELLED:
      case FutureState::CANCELLED_AND_NOTIFIED:
        text += "cancelled";
        break;
      case FutureState::FINISHED:
        text += exception_ ? "finished raised " + describe(exception_).type : "finished returned " + result_type_name();
        break;
    }
    return text + ">";
  }

  mutable std::mutex mutex_;
  std::condition_variable condition_;
  FutureState state_ = FutureState::PENDING;
  std::exception_ptr exception_;

 private:
  void invoke_callbacks(std::vector<Callback>& callbacks) {
    for (auto& callback : callbacks) invoke_callback(callback);
  }

  // A throwing callback is logged and the others still run (Python logs and continues).
  void invoke_callback(Callback& callback) {
    try {
      callback(*this);
    } catch (...) {
      auto error = describe(std::current_exception());
      log_error("exception calling callback for " + repr() + ": " + error.type + ": " + error.message);
    }
  }

  std::vector<Waiter*> waiters_;
  std::vector<Callback> callbacks_;
};

/// The typed shared state: FutureCore plus the stored value.
template <class T>
class FutureValue : public FutureCore {
 public:
  void set_result(T value) {
    finish([&] { value_.emplace(std::move(value)); }, false);
  }
  const T& result(Timeout timeout) {
    std::unique_lock lock = wait_done(timeout);
    if (is_cancelled(state_)) throw CancelledError();
    if (state_ != FutureState::FINISHED) throw TimeoutError();
    if (exception_) std::rethrow_exception(exception_);
    return *value_;  // never changes again once FINISHED: safe to read without the lock
  }

 protected:
  std::string result_type_name() const override { return type_name<T>(); }

 private:
  std::optional<T> value_;
};

template <>
class FutureValue<void> : public FutureCore {
 public:
  void set_result() {
    finish([] {}, false);
  }
  void result(Timeout timeout) {
    std::unique_lock lock = wait_done(timeout);
    if (is_cancelled(state_)) throw CancelledError();
    if (state_ != FutureState::FINISHED) throw TimeoutError();
    if (exception_) std::rethrow_exception(exception_);
  }

 protected:
  std::string result_type_name() const override { return "void"; }
};

}  // namespace detail

/// A handle on the result of an asynchronous call (Python's concurrent.futures.Future).
template <class T>
class Future {
 public:
  using value_type = T;

  /// A new pending future, to be driven by an executor or by hand.
  Future() : value_(std::make_shared<detail::FutureValue<T>>()) {}

  /// Cancels a pending future (true), or reports that it is already cancelled (true) or running
  /// or finished (false).
  bool cancel() const { return value_->cancel(); }
  bool cancelled() const { return value_->cancelled(); }
  bool running() const { return value_->running(); }
  bool done() const { return value_->done(); }

  /// The value, or the call's exception rethrown; CancelledError, or TimeoutError (empty message)
  /// when `timeout` seconds pass first. Like std::shared_future::get(), it returns a reference
  /// into the shared state, valid while any handle on this future lives.
  decltype(auto) result(Timeout timeout = {}) const { return value_->result(timeout); }

  /// The call's exception, or a null exception_ptr if it succeeded.
  std::exception_ptr exception(Timeout timeout = {}) const { return value_->exception(timeout); }

  /// Calls fn(future) when the future is done, or at once in this thread if it already is.
  template <class F>
  void add_done_callback(F fn) const {
    value_->add_done_callback([fn = std::move(fn)](detail::FutureCore& core) {
      fn(Future(std::static_pointer_cast<detail::FutureValue<T>>(core.shared_from_this())));
    });
  }

  /// For executors: false (and notifies waiters) if cancelled, else marks the future running.
  bool set_running_or_notify_cancel() const { return value_->set_running_or_notify_cancel(); }

  template <class U = T>
  requires(!std::is_void_v<U>) void set_result(U value) const { value_->set_result(std::move(value)); }
  template <class U = T>
  requires std::is_void_v<U>
  void set_result() const { value_->set_result(); }
  void set_exception(std::exception_ptr error) const { value_->set_exception(std::move(error)); }

  /// "<Future at 0x... state=finished returned int>", as Python's repr.
  std::string repr() const { return value_->repr(); }

  /// The internal state (PENDING, RUNNING, CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED).
  FutureState state() const { return value_->state(); }

  friend bool operator==(const Future& a, const Future& b) { return a.value_ == b.value_; }
  friend auto operator<=>(const Future& a, const Future& b) { return a.value_ <=> b.value_; }

  /// The shared state, for wait()/as_completed() and executors.
  detail::FutureCore& core() const { return *value_; }
  const void* identity() const { return value_.get(); }

 private:
  friend class FutureBase;
  explicit Future(std::shared_ptr<detail::FutureValue<T>> value) : value_(std::move(value)) {}
  std::shared_ptr<detail::FutureValue<T>> value_;
};

/// Any future, whatever its result type, as Python's futures are: what wait() and as_completed()
/// take to watch futures of different result types together. It has Future's state
/// operations and exception(); as<T>() gives the typed Future back (std::bad_cast if its result
/// type is not T). Equal to another handle on the same future.
class FutureBase {
 public:
  template <class T>
  FutureBase(const Future<T>& future) : core_(future.core().shared_from_this()) {}  // NOLINT: implicit

  bool cancel() const { return core_->cancel(); }
  bool cancelled() const { return core_->cancelled(); }
  bool running() const { return core_->running(); }
  bool done() const { return core_->done(); }
  std::exception_ptr exception(Timeout timeout = {}) const { return core_->exception(timeout); }
  FutureState state() const { return core_->state(); }
  std::string repr() const { return core_->repr(); }

  template <class T>
  Future<T> as() const {
    auto typed = std::dynamic_pointer_cast<detail::FutureValue<T>>(core_);
    if (!typed) throw std::bad_cast();
    return Future<T>(std::move(typed));
  }

  friend bool operator==(const FutureBase& a, const FutureBase& b) { return a.identity() == b.identity(); }
  friend auto operator<=>(const FutureBase& a, const FutureBase& b) {
    return std::compare_three_way()(a.identity(), b.identity());
  }

  detail::FutureCore& core() const { return *core_; }
  /// The same as Future<T>::identity() of the future it holds: the shared state's address.
  const void* identity() const { return dynamic_cast<const void*>(core_.get()); }

 private:
  std::shared_ptr<detail::FutureCore> core_;
};

}  // namespace pexec

template <class T>
struct std::hash<pexec::Future<T>> {
  std::size_t operator()(const pexec::Future<T>& future) const noexcept {
    return std::hash<const void*>()(future.identity());
  }
};

template <>
struct std::hash<pexec::FutureBase> {
  std::size_t operator()(const pexec::FutureBase& future) const noexcept {
    return std::hash<const void*>()(future.identity());
  }
};
