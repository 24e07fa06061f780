#pragma once
/// JobExecutor: where jobs run, behind the operations the Scheduler needs. Shell jobs go to the
/// library's ThreadPoolExecutor (--mode thread) or ProcessPoolExecutor (--mode process), URL jobs
/// to UrlJobs' fetchers (threads or worker processes, as --mode says).

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "job.hpp"
#include "options.hpp"
#include "pexec/future.hpp"
#include "stop_signal.hpp"

namespace pexec::cli {

class JobExecutor {
 public:
  virtual ~JobExecutor() = default;
  /// Schedules one job; the Engine submits one only when a worker is free for it, so it starts
  /// at once. Throws pexec::BrokenExecutor if the pool cannot run jobs any more. A job may wait
  /// for flush() to leave, so that jobs submitted together travel together.
  virtual Future<JobResult> submit(const JobSpec& spec) = 0;
  /// Sends the jobs submitted since the last flush() on their way.
  virtual void flush() = 0;
  /// When a job that flush() held back (a URL job waiting for its host's Retry-After, or for
  /// --rate) may leave: the Engine calls flush() again by then.
  virtual std::optional<std::chrono::steady_clock::time_point> next_flush() { return std::nullopt; }
  /// Raises the stop level (see StopLevel): draining cancels whatever has not started,
  /// terminating also stops the running jobs (SIGTERM, then SIGKILL after --grace; they report
  /// as "killed"), killing sends SIGKILL at once (and kills process workers).
  virtual void stop(StopLevel level) = 0;
  /// How many jobs run at once.
  virtual int workers() const = 0;
  /// A job overran its timeout and grace without being reported: kills the workers that do not
  /// answer (process workers stopped by SIGSTOP), so that their jobs end as errors. Threads
  /// enforce their jobs' timeouts themselves: nothing to do for them.
  virtual void kill_unresponsive_workers() {}
  /// The fds through which workers report to the Engine's own loop (URL worker processes), added
  /// to `fds`: the loop waits for them too, and calls take_readable() for each that is readable,
  /// which completes the jobs it reports on the loop's thread.
  virtual void add_watched_fds(std::vector<int>& /*fds*/) const {}
  virtual void take_readable(int /*fd*/) {}
};

/// The pool --mode asks for, with `workers` workers and --max-tasks-per-child; with -S, shell
/// jobs run on the hosts `remote` says (ssh clients started by the pool's workers).
std::unique_ptr<JobExecutor> make_job_executor(const Options& options, int workers, RemoteSettings remote = {});

/// Default number of workers for a mode, as the library's pools choose it.
int default_workers(Mode mode);

}  // namespace pexec::cli
