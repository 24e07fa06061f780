#pragma once
/// UrlFetcherHost: where a UrlFetcher runs, behind what UrlJobs needs: a thread of pexec
/// (--mode thread, here) or a worker process (--mode process, url_worker_process.hpp).
/// Deleting a host closes it: it waits until every job added has been reported through `done`.

#include <memory>
#include <vector>

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
  /// Whether the fetcher is gone (a worker process that died); its jobs were reported.
  virtual bool lost() const { return false; }
};

/// A UrlFetcher on a thread of its own; `index` names its jobs' worker: UrlFetcher-INDEX.
std::unique_ptr<UrlFetcherHost> start_url_fetcher_thread(const CurlLibrary& lib, int max_transfers, int index,
                                                         const RunSettings& settings, UrlFetcher::Done done);

}  // namespace pexec::cli
