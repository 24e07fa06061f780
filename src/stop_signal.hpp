#pragma once
/// StopSignal: a flag that, once raised, stays raised and is readable as a file descriptor, so
/// that event loops can wait on it (an eventfd, written when raised). Raising it is
/// async-signal-safe, so a signal handler may do it.
///
/// StopLevel: how far pexec has gone in stopping a run. It only goes up; each level includes the
/// ones below it.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <initializer_list>

namespace pexec::cli {

/// The signals every program pexec starts (jobs, ssh, rsync) gets back at their defaults:
/// pexec's own handling (a process worker ignores SIGUSR1, and an ignored signal stays so
/// across exec) is not theirs.
inline constexpr std::initializer_list<int> kChildDefaultSignals = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                                                                    SIGPIPE, SIGCHLD, SIGUSR1};

enum class StopLevel {
  running,      // jobs start as slots free up
  draining,     // no job starts; running jobs finish (--let-running-finish)
  terminating,  // running jobs' process groups get SIGTERM, then SIGKILL after --grace
  killing,      // running jobs' process groups get SIGKILL now
};

class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  /// Raises the flag; safe in a signal handler.
  void raise() noexcept;
  /// Lowers it again (a process worker, between jobs).
  void reset() noexcept;
  /// Cheap enough for a transfer's progress callback.
  bool raised() const noexcept { return raised_.load(std::memory_order_relaxed); }
  /// Readable while raised.
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
  std::atomic<bool> raised_{false};
};

/// What every running shell job in this process watches: `terminate` sends its process group
/// SIGTERM (then SIGKILL after its grace period), `kill` sends SIGKILL at once.
struct JobStops {
  StopSignal terminate;
  StopSignal kill;
};
JobStops& running_jobs_stop();

/// `seconds` after `from` on the steady clock, saturating: 1e300 or inf is "never" (the clock's
/// max), not an overflow.
std::chrono::steady_clock::time_point steady_after(
    double seconds, std::chrono::steady_clock::time_point from = std::chrono::steady_clock::now());

}  // namespace pexec::cli
