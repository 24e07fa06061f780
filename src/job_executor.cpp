#include "job_executor.hpp"

#include <signal.h>

#include "pexec/process_pool.hpp"
#include "pexec/thread_pool.hpp"
#include "pexec/worker_identity.hpp"
#include "shell_job.hpp"
#include "stop_signal.hpp"
#include "url_jobs.hpp"

namespace pexec::cli {

namespace {

JobResult run_shell_job_here(const JobSpec& spec) {
  return run_shell_job(spec, current_worker_index() + 1, current_worker_name());
}

// --- process mode: what runs inside a worker process ---------------------------------------

JobResult run_job_in_worker(JobSpec spec) { return run_shell_job_here(spec); }

void on_terminate(int) { running_jobs_stop().raise(); }

/// Worker initializer: the parent handles Ctrl-C for the whole run, and terminate_workers()'s
/// SIGTERM stops the running job the same way as in thread mode, so its result (status
/// "killed", with its output so far) still reaches the parent before the worker exits.
void prepare_job_worker() {
  running_jobs_stop();  // created here: a signal handler must not be the first to touch it
  ::signal(SIGINT, SIG_IGN);
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
  explicit ThreadJobExecutor(std::optional<int> jobs) : pool_(jobs), url_jobs_(Mode::thread, pool_.max_workers()) {}
  Future<JobResult> submit(const JobSpec& spec) override {
    if (spec.kind == JobKind::url) return url_jobs_.submit(spec);
    return pool_.submit([spec] { return run_shell_job_here(spec); });
  }
  void flush() override { url_jobs_.flush(); }
  void stop(bool let_running_finish) override {
    pool_.shutdown(false, true);
    if (!let_running_finish) running_jobs_stop().raise();
    url_jobs_.stop(let_running_finish);
  }
  int workers() const override { return pool_.max_workers(); }

 private:
  ThreadPoolExecutor pool_;
  UrlJobs url_jobs_;
};

class ProcessJobExecutor final : public JobExecutor {
 public:
  ProcessJobExecutor(std::optional<int> jobs, std::optional<int> max_tasks_per_child)
      : pool_(jobs, max_tasks_per_child, prepare_job_worker), url_jobs_(Mode::process, pool_.max_workers()) {}
  Future<JobResult> submit(const JobSpec& spec) override {
    if (spec.kind == JobKind::url) return url_jobs_.submit(spec);
    return pool_.submit(run_job_in_worker, spec);
  }
  void flush() override { url_jobs_.flush(); }
  void stop(bool let_running_finish) override {
    if (let_running_finish)
      pool_.shutdown(false, true);
    else
      pool_.terminate_workers();
    url_jobs_.stop(let_running_finish);
  }
  int workers() const override { return pool_.max_workers(); }

 private:
  ProcessPoolExecutor pool_;
  UrlJobs url_jobs_;
};

}  // namespace

int default_workers(Mode mode) {
  return mode == Mode::process ? ProcessPoolExecutor::default_max_workers() : ThreadPoolExecutor::default_max_workers();
}

std::unique_ptr<JobExecutor> make_job_executor(const Options& options) {
  if (options.mode == Mode::process)
    return std::make_unique<ProcessJobExecutor>(options.jobs, options.max_tasks_per_child);
  return std::make_unique<ThreadJobExecutor>(options.jobs);
}

}  // namespace pexec::cli
