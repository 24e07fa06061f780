#pragma once
/// Where a run's URL jobs are fetched: a UrlFetcher on a thread of pexec (--mode thread), or in
/// a worker process that is this program started again (--mode process), fed job specs and
/// answering results over two pipes, as ProcessPoolExecutor's workers are (CBOR frames).
///
/// Deleting a host closes it: it waits until every job added has been reported through `done`.
/// If the worker process dies, the jobs it had are reported with status error, or killed once
/// stop() was called.

#include <memory>

#include "curl_library.hpp"
#include "url_fetcher.hpp"

namespace pexec::cli {

class UrlFetcherHost {
 public:
  virtual ~UrlFetcherHost() = default;
  /// Hands jobs over (taking them out of `specs`), together. Any thread. May report jobs (a
  /// worker process that is gone) before it returns.
  virtual void add(std::vector<JobSpec>& specs) = 0;
  virtual void stop(bool let_running_finish) = 0;
};

/// `index` names its jobs' worker: UrlFetcher-INDEX.
std::unique_ptr<UrlFetcherHost> start_url_fetcher_thread(const CurlLibrary& lib, int max_transfers, int index,
                                                         UrlFetcher::Done done);
std::unique_ptr<UrlFetcherHost> start_url_worker_process(int max_transfers, UrlFetcher::Done done);

/// Serves URL jobs and exits if this process was started as a URL worker; returns at once
/// otherwise. Called at the top of main(), beside pexec::freeze_support().
void serve_url_jobs_if_worker();

}  // namespace pexec::cli
