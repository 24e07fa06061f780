#pragma once
/// UrlJobs: the URL side of a JobExecutor. The first URL job starts the fetchers (UrlFetcher
/// loops: threads of pexec in --mode thread, worker processes in --mode process); each job goes
/// to the fetcher with the fewest jobs out per transfer slot, and its future is completed when
/// that fetcher reports it. Together the fetchers run at most -j transfers at a time.

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "job.hpp"
#include "options.hpp"
#include "pexec/future.hpp"
#include "url_fetcher_host.hpp"

namespace pexec::cli {

class UrlJobs {
 public:
  UrlJobs(Mode mode, int max_transfers) : mode_(mode), max_transfers_(max_transfers) {}
  ~UrlJobs();  // waits for the jobs still out (the scheduler has waited for them already)

  /// Never throws for a job that cannot be fetched: its future holds a result with status error.
  Future<JobResult> submit(const JobSpec& spec);
  void flush();
  void stop(bool let_running_finish);

 private:
  struct Out {
    Future<JobResult> future;
    std::size_t fetcher;
  };
  void start_fetchers();
  void complete(std::vector<JobResult>& results);

  const Mode mode_;
  const int max_transfers_;
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, Out> out_;             // by seq
  std::vector<int> jobs_out_;                              // per fetcher
  std::vector<int> transfers_;                             // per fetcher: how many it runs at once
  std::vector<std::unique_ptr<UrlFetcherHost>> fetchers_;  // their threads call complete()
};

}  // namespace pexec::cli
