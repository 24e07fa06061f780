#include "job_executor.hpp"

#include <signal.h>

#include <mutex>
#include <unordered_map>

#include "pexec/process_pool.hpp"
#include "pexec/thread_pool.hpp"
#include "pexec/worker_identity.hpp"
#include "shell_job.hpp"
#include "stop_signal.hpp"
#include "url_fetcher_host.hpp"

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

/// The URL jobs of a run: fetched by one UrlFetcher (started by the first URL job, in a thread
/// or a worker process as --mode says), -j transfers at a time, each job's future completed
/// when the fetcher reports it.
class UrlJobs {
 public:
  UrlJobs(Mode mode, int max_transfers) : mode_(mode), max_transfers_(max_transfers) {}
  ~UrlJobs() { host_.reset(); }  // waits for the jobs still out (the scheduler waited for them)

  Future<JobResult> submit(const JobSpec& spec) {
    Future<JobResult> future;
    if (!host_) {
      std::string error;
      const CurlLibrary* lib = mode_ == Mode::thread ? curl_library(error) : nullptr;
      if (mode_ == Mode::thread && !lib) {
        future.set_result(unstarted_result(spec, JobStatus::error, error));
        return future;
      }
      auto done = [this](JobResult& result) { complete(result); };
      host_ = lib ? start_url_fetcher_thread(*lib, max_transfers_, done)
                  : start_url_worker_process(max_transfers_, done);
    }
    {
      std::lock_guard lock(mutex_);
      futures_.emplace(spec.seq, future);
    }
    host_->add(spec);
    return future;
  }

  void stop(bool let_running_finish) {
    if (host_) host_->stop(let_running_finish);
  }

 private:
  void complete(JobResult& result) {
    Future<JobResult> future;
    {
      std::lock_guard lock(mutex_);
      auto node = futures_.extract(result.seq);
      if (node.empty()) return;
      future = node.mapped();
    }
    future.set_result(std::move(result));
  }

  const Mode mode_;
  const int max_transfers_;
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, Future<JobResult>> futures_;
  std::unique_ptr<UrlFetcherHost> host_;  // last: its thread calls complete() until it is gone
};

class ThreadJobExecutor final : public JobExecutor {
 public:
  explicit ThreadJobExecutor(std::optional<int> jobs) : pool_(jobs), url_jobs_(Mode::thread, pool_.max_workers()) {}
  Future<JobResult> submit(const JobSpec& spec) override {
    if (spec.kind == JobKind::url) return url_jobs_.submit(spec);
    return pool_.submit([spec] { return run_shell_job_here(spec); });
  }
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
