#pragma once
/// UrlJobs: the URL side of a JobExecutor. The first URL job starts the fetchers (UrlFetcher
/// loops: threads of pexec in --mode thread, worker processes in --mode process), which together
/// run at most -j transfers at a time. Jobs wait here, in input order, until a fetcher has room:
/// a fetcher thread is never handed more than it can start, so a slow URL never holds back jobs
/// that another fetcher could run (a worker process holds a few more, see start_fetchers()).
/// Each job's future is completed when its fetcher reports it; the room it frees is filled at the
/// Engine's next flush(). A URL worker process that dies is replaced at the next flush(): only
/// the jobs it held fail.
///
/// Politeness is decided here, where every fetcher's jobs pass, so it holds across threads and
/// worker processes: a job whose host already has --max-per-host transfers, or whose host
/// answered 429 or 503 with Retry-After, waits (the jobs behind it for other hosts go on).
/// next_flush() says when a waiting job may leave. (--rate is kept by the Engine, which spaces
/// job starts, and by the one loop that runs with it, which spaces transfer starts.)

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "job.hpp"
#include "options.hpp"
#include "pexec/future.hpp"
#include "stop_signal.hpp"
#include "url_worker_process.hpp"

namespace pexec::cli {

class UrlJobs {
 public:
  /// `settings` must outlive this.
  UrlJobs(Mode mode, int max_transfers, const RunSettings& settings)
      : mode_(mode), max_transfers_(max_transfers), settings_(settings) {}
  ~UrlJobs();  // waits for the jobs still out (the scheduler has waited for them already)

  /// Queues a job; it leaves at the next flush(). Never throws for a job that cannot be
  /// fetched: its future holds a result with status error.
  Future<JobResult> submit(const JobSpec& spec);
  /// Hands queued jobs to the fetchers with free slots.
  void flush();
  /// Cancels the queued jobs and, from StopLevel::terminating on, stops the running ones.
  void stop(StopLevel level);
  /// When a queued job held back by a host's Retry-After may leave, if one is.
  std::optional<std::chrono::steady_clock::time_point> next_flush();
  /// --mode process: the fds of the worker processes' results, for the caller's loop to watch
  /// (added to `fds`); take_results(fd) when one is readable completes the jobs it reports.
  void add_results_fds(std::vector<int>& fds) const;
  void take_results(int fd);

 private:
  using Clock = std::chrono::steady_clock;
  struct Out {
    Future<JobResult> future;
    std::size_t fetcher = 0;
    std::string host;  // url_host(), with --max-per-host only
  };
  /// Whether `job` may leave now as far as its host is concerned.
  bool host_ready(const JobSpec& job, const Out& out, Clock::time_point now) const;
  void start_fetchers();
  void replace_lost_fetchers();
  void complete(std::vector<JobResult>& results);

  const Mode mode_;
  const int max_transfers_;
  const RunSettings& settings_;
  std::mutex mutex_;
  std::deque<JobSpec> queued_;
  std::unordered_map<std::uint64_t, Out> out_;             // by seq: queued or with a fetcher
  std::vector<int> held_;                                  // per fetcher: jobs handed to it, not reported
  std::vector<int> capacity_;                              // per fetcher: how many it may hold
  std::vector<std::unique_ptr<UrlFetcherHost>> fetchers_;  // call complete(), on their threads or the caller's
  std::unordered_map<std::string, int> transfers_to_;      // per host: jobs with a fetcher
  std::unordered_map<std::string, Clock::time_point> host_paused_until_;  // Retry-After of 429, 503
};

/// The host part of `url` as a politeness key: "scheme://host:port" in lower case, without
/// user information; the whole text if it has no "://".
std::string url_host(std::string_view url);

}  // namespace pexec::cli
