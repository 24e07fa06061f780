#pragma once
/// UrlFetcher: runs URL jobs concurrently on one thread with libcurl's multi interface, at most
/// `max_transfers` at a time (-j). One event loop drives every transfer, so a thousand URLs cost
/// no thread switches per job, and all transfers share one connection cache (keep-alive, HTTP/2
/// over TLS where offered). In --mode thread the loop runs on a thread of pexec; in --mode
/// process it runs in a worker process (url_worker_process.hpp).
///
/// A job's life: queued -> transfer -> reported through `done`, on the loop's thread, with the other jobs that finished
/// in the same turn of the loop (one hand-over per batch, not per job). stop() reports queued jobs as cancelled and,
/// unless told to let them finish, running ones as killed.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "curl_library.hpp"
#include "job.hpp"
#include "url_job.hpp"

namespace pexec::cli {

class UrlFetcher {
 public:
  using Done = std::function<void(std::vector<JobResult>& finished)>;

  /// Jobs report as run by `worker`; `done` is called on the loop's thread, once per turn of the
  /// loop in which jobs finished. Every job is in exactly one call.
  /// `settings` must outlive the fetcher; every handle is configured for them once.
  UrlFetcher(const CurlLibrary& lib, int max_transfers, std::string worker, const RunSettings& settings, Done done);
  ~UrlFetcher();
  UrlFetcher(const UrlFetcher&) = delete;
  UrlFetcher& operator=(const UrlFetcher&) = delete;

  /// Queues jobs (taking them out of `specs`). Any thread.
  void add(std::vector<JobSpec>& specs);
  /// Cancels the queued jobs and, unless `let_running_finish`, stops the running ones. Jobs added
  /// later are cancelled too. Any thread.
  void stop(bool let_running_finish);
  /// No more jobs will be added: run() returns once every job is reported. Any thread.
  void close();

  /// Before run(): the loop also waits for `fd` to be readable, and then calls `on_readable` on
  /// its thread, until that returns false. (A worker process reads pexec's requests this way,
  /// with no thread of its own to hand them over.)
  void watch(int fd, std::function<bool()> on_readable);

  /// The event loop; returns after close(), when every job has been reported.
  void run();

 private:
  /// A curl easy handle, configured for the run's settings once; kept between jobs.
  struct Handle {
    CURL* curl = nullptr;
    CURLU* url = nullptr;  // the job's URL, parsed into it (CURLOPT_CURLU)
    curl_slist* headers = nullptr;
  };
  /// A running job and its handle.
  struct Transfer {
    std::unique_ptr<UrlJob> job;
    Handle* handle;
  };

  void take_requests();
  void start_queued();
  void start_transfer(Transfer& transfer);
  void collect_finished();
  void finish(UrlJob* job);
  /// Ends every running job (stopped by pexec, or failed with the multi handle) with `end`.
  void end_running(const std::function<void(UrlJob&)>& end);
  void cancel_queued();
  void deliver_finished();
  Handle* take_handle();
  /// How long the loop may sleep: at most a second, and no later than a --rate start is due.
  int poll_timeout_ms() const;

  const CurlLibrary& lib_;
  const int max_transfers_;
  const std::string worker_;
  const RunSettings& settings_;
  const Done done_;
  CURLM* multi_;

  // Shared with the threads that add jobs.
  std::mutex mutex_;
  std::vector<JobSpec> incoming_;
  bool cancel_requested_ = false;
  bool abort_requested_ = false;
  bool closed_ = false;
  bool sleeping_ = false;  // the loop waits in curl_multi_poll: wake it

  // The loop's own.
  std::deque<JobSpec> queued_;
  std::unordered_map<UrlJob*, Transfer> running_;
  std::vector<std::unique_ptr<Handle>> handles_;
  std::vector<Handle*> idle_handles_;
  std::vector<JobResult> finished_;  // this turn's, for done_
  int watched_fd_ = -1;
  std::function<bool()> on_readable_;
  std::chrono::steady_clock::time_point next_start_{};  // --rate: no transfer starts before
  bool cancelling_ = false;                             // copies of the requests above, taken under the lock
  bool aborting_ = false;
};

/// UrlFetcherHost: where a UrlFetcher runs, behind what UrlJobs needs: a thread of pexec
/// (--mode thread, url_jobs.cpp) or a worker process (--mode process, url_worker_process.hpp).
/// Deleting a host closes it: it waits until every job added has been reported through `done`.
class UrlFetcherHost {
 public:
  virtual ~UrlFetcherHost() = default;
  /// Hands jobs over (taking them out of `specs`), together. May report jobs (a worker process
  /// that is gone) before it returns.
  virtual void add(std::vector<JobSpec>& specs) = 0;
  virtual void stop(bool let_running_finish) = 0;
  /// Whether the fetcher is gone (a worker process that died); its jobs were reported.
  virtual bool lost() const { return false; }
  /// The fd that the caller's loop watches for this host's results, and take_results() reads
  /// when it is readable (a worker process); -1 for a host that reports on its own thread.
  virtual int results_fd() const { return -1; }
  virtual void take_results() {}
};

}  // namespace pexec::cli
