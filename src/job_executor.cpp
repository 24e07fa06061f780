#include "job_executor.hpp"

#include <signal.h>

#include <chrono>

#include "orphaned_jobs.hpp"
#include "pexec/process_pool.hpp"
#include "pexec/thread_pool.hpp"
#include "pexec/worker_identity.hpp"
#include "shared_output.hpp"
#include "shell_job.hpp"
#include "stop_signal.hpp"
#include "url_jobs.hpp"

namespace pexec::cli {

namespace {

JobResult run_shell_job_here(const JobSpec& spec, const RunSettings& settings) {
  return run_shell_job(spec, settings, current_worker_name());
}

// --- process mode: what runs inside a worker process ---------------------------------------

RunSettings& worker_settings() {
  static RunSettings settings;  // set once, by prepare_job_worker()
  return settings;
}

JobResult run_job_in_worker(JobSpec spec) {
  JobResult result = run_shell_job_here(spec, worker_settings());
  // A SIGTERM stops the job it came during (or the next one, if it came between jobs), not the
  // worker's later jobs: after terminate_workers() there are none, since the pipe is closed.
  running_jobs_stop().terminate.reset();
  return result;
}

void on_terminate(int) { running_jobs_stop().terminate.raise(); }

/// Worker initializer: the parent handles Ctrl-C for the whole run, and terminate_workers()'s
/// SIGTERM stops the running job the same way as in thread mode, so its result (status
/// "killed", with its output so far) still reaches the parent before the worker exits. Big
/// outputs stay in named files that the parent adopts, instead of crossing the pipe.
void prepare_job_worker(RunSettings settings) {
  // Live output (--line-buffer, -u) goes straight to pexec's stdout and stderr, which workers
  // share, under the parent's lock.
  if (settings.output.shared_fd >= 0) SharedOutput::attach(settings.output.shared_fd);
  worker_settings() = std::move(settings);
  running_jobs_stop();  // created here: a signal handler must not be the first to touch it
  CapturedOutput::keep_spill_files_named();
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGUSR1, SIG_IGN);  // pexec's: "killall -USR1 pexec" lists the running jobs
  ::signal(SIGPIPE, SIG_IGN);  // a live write to a closed stdout fails with EPIPE instead
  struct sigaction action {};
  action.sa_handler = on_terminate;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
}

}  // namespace
}  // namespace pexec::cli

PEXEC_REGISTER(pexec::cli::run_job_in_worker);
PEXEC_REGISTER(pexec::cli::prepare_job_worker);

namespace pexec::cli {
namespace {

class ThreadJobExecutor final : public JobExecutor {
 public:
  ThreadJobExecutor(int jobs, RunSettings settings)
      : settings_(std::move(settings)), pool_(jobs), url_jobs_(Mode::thread, pool_.max_workers(), settings_) {}
  Future<JobResult> submit(const JobSpec& spec) override {
    if (spec.kind == JobKind::url) return url_jobs_.submit(spec);
    return pool_.submit([this, spec] { return run_shell_job_here(spec, settings_); });
  }
  void flush() override { url_jobs_.flush(); }
  std::optional<std::chrono::steady_clock::time_point> next_flush() override { return url_jobs_.next_flush(); }
  void stop(StopLevel level) override {
    pool_.shutdown(false, true);
    if (level >= StopLevel::terminating) running_jobs_stop().terminate.raise();
    if (level >= StopLevel::killing) running_jobs_stop().kill.raise();
    url_jobs_.stop(level);
  }
  int workers() const override { return pool_.max_workers(); }

 private:
  const RunSettings settings_;  // the pool's threads read it by reference
  ThreadPoolExecutor pool_;
  UrlJobs url_jobs_;
};

class ProcessJobExecutor final : public JobExecutor {
 public:
  ProcessJobExecutor(int jobs, std::optional<int> max_tasks_per_child, RunSettings settings)
      : settings_(std::move(settings)),
        jobs_(jobs),
        max_tasks_per_child_(max_tasks_per_child),
        pool_(new_pool()),
        url_jobs_(Mode::process, jobs, settings_) {
    adopt_orphaned_jobs();
  }
  ~ProcessJobExecutor() override {
    pool_.reset();  // waits for the workers
    stop_orphaned_jobs();
  }
  Future<JobResult> submit(const JobSpec& spec) override {
    if (spec.kind == JobKind::url) return url_jobs_.submit(spec);
    try {
      return pool_->submit(run_job_in_worker, spec);
    } catch (const BrokenProcessPool&) {
      // A worker died (its jobs were reported): the jobs after them run in a new pool.
      pool_ = new_pool();
      return pool_->submit(run_job_in_worker, spec);
    }
  }
  std::optional<std::chrono::steady_clock::time_point> next_flush() override { return url_jobs_.next_flush(); }
  void flush() override {
    url_jobs_.flush();
    // The jobs of a worker that died are pexec's children now: stop them soon, not only at
    // the end (a scan of /proc costs a little, so at most four times a second).
    auto now = std::chrono::steady_clock::now();
    if (now - last_orphan_scan_ >= std::chrono::milliseconds(250)) {
      last_orphan_scan_ = now;
      stop_orphaned_jobs();
    }
  }
  void stop(StopLevel level) override {
    if (level == StopLevel::draining) {
      pool_->shutdown(false, true);
    } else if (level == StopLevel::terminating) {
      pool_->terminate_workers();
    } else {
      pool_->kill_workers();  // a worker that does not answer (SIGSTOP) cannot hold the run,
      stop_orphaned_jobs();   // nor can the jobs it leaves behind
    }
    url_jobs_.stop(level);
  }
  int workers() const override { return jobs_; }
  void kill_unresponsive_workers() override { kill_stopped_workers(); }
  void add_watched_fds(std::vector<int>& fds) const override { url_jobs_.add_results_fds(fds); }
  void take_readable(int fd) override { url_jobs_.take_results(fd); }

 private:
  std::unique_ptr<ProcessPoolExecutor> new_pool() {
    return std::make_unique<ProcessPoolExecutor>(jobs_, max_tasks_per_child_, prepare_job_worker, settings_);
  }

  const RunSettings settings_;  // sent once to each worker, as the initializer's argument
  const int jobs_;
  const std::optional<int> max_tasks_per_child_;
  std::unique_ptr<ProcessPoolExecutor> pool_;
  UrlJobs url_jobs_;
  std::chrono::steady_clock::time_point last_orphan_scan_{};
};

}  // namespace

int default_workers(Mode mode) {
  return mode == Mode::process ? ProcessPoolExecutor::default_max_workers() : ThreadPoolExecutor::default_max_workers();
}

std::unique_ptr<JobExecutor> make_job_executor(const Options& options, int workers, RemoteSettings remote) {
  RunSettings settings = options.run_settings();
  settings.remote = std::move(remote);
  if (options.mode == Mode::process) {
    settings.output.shared_fd = SharedOutput::get().fd();
    return std::make_unique<ProcessJobExecutor>(workers, options.max_tasks_per_child, std::move(settings));
  }
  return std::make_unique<ThreadJobExecutor>(workers, std::move(settings));
}

}  // namespace pexec::cli
