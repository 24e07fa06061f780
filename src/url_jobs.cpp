#include "url_jobs.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "pexec/cpu_count.hpp"

namespace pexec::cli {

namespace {

/// A UrlFetcher on a thread of its own (--mode thread); its jobs' worker is UrlFetcher-INDEX.
class FetcherThread final : public UrlFetcherHost {
 public:
  FetcherThread(const CurlLibrary& lib, int max_transfers, int index, const RunSettings& settings,
                UrlFetcher::Done done)
      : fetcher_(lib, max_transfers, "UrlFetcher-" + std::to_string(index), settings, std::move(done)),
        thread_([this] { fetcher_.run(); }) {}
  ~FetcherThread() override {
    fetcher_.close();
    thread_.join();
  }
  void add(std::vector<JobSpec>& specs) override { fetcher_.add(specs); }
  void stop(bool let_running_finish) override { fetcher_.stop(let_running_finish); }

 private:
  UrlFetcher fetcher_;
  std::thread thread_;
};

/// The longest a host is paused for by one Retry-After, as the engine bounds a retry's wait.
constexpr double kMaxHostPause = 60;

}  // namespace

std::string url_host(std::string_view url) {
  std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  std::size_t end = url.find_first_of("/?#", scheme + 3);
  std::string_view authority = url.substr(scheme + 3, end == std::string_view::npos ? url.npos : end - scheme - 3);
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string host(url.substr(0, scheme + 3));
  host += authority;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  return host;
}

UrlJobs::~UrlJobs() { fetchers_.clear(); }

void UrlJobs::start_fetchers() {
  // One loop per four CPUs: a loop keeps its transfers' libcurl work on one thread without
  // switches and runs 20,000 requests a second or more; over https all of a loop's transfers to a
  // host share one HTTP/2 connection. Measured on two CPUs shared with nginx (20,000 GETs, -j 8):
  // one loop 0.80 s, two 1.0-1.2 s over https (two connections, twice the wakeups); within
  // noise of each other over http.
  // With --rate one loop spaces every start itself (a worker process still starting would
  // otherwise start the jobs it was sent meanwhile at once).
  int count = settings_.url.rate ? 1 : std::clamp(process_cpu_count() / 4, 1, max_transfers_);
  auto done = [this](std::vector<JobResult>& results) { complete(results); };
  std::string error;
  const CurlLibrary* lib = mode_ == Mode::thread ? curl_library(error) : nullptr;
  if (mode_ == Mode::thread && !lib) throw std::runtime_error(error);
  for (int i = 0; i < count; ++i) {
    int transfers = max_transfers_ / count + (i < max_transfers_ % count ? 1 : 0);
    fetchers_.push_back(lib ? std::make_unique<FetcherThread>(*lib, transfers, i, settings_, done)
                            : start_url_worker_process(transfers, settings_, done));
    // A fetcher is never handed more than it can start: the Engine decides every start, so no
    // job can start in a fetcher after the run decided to stop.
    std::lock_guard lock(mutex_);
    held_.push_back(0);
    capacity_.push_back(transfers);
  }
}

void UrlJobs::replace_lost_fetchers() {
  for (std::size_t i = 0; i < fetchers_.size(); ++i) {
    if (!fetchers_[i] || !fetchers_[i]->lost()) continue;
    // Its jobs were reported (status error); the jobs still to come run in a new worker.
    fetchers_[i].reset();
    try {
      fetchers_[i] = start_url_worker_process(capacity_[i], settings_,
                                              [this](std::vector<JobResult>& results) { complete(results); });
    } catch (const std::exception&) {
      capacity_[i] = 0;  // no process to be had: the other fetchers take its share
      fetchers_[i] = nullptr;
    }
  }
}

Future<JobResult> UrlJobs::submit(const JobSpec& spec) {
  Future<JobResult> future;
  if (fetchers_.empty()) {
    try {
      start_fetchers();
    } catch (const std::exception& e) {  // no libcurl, or no worker process
      fetchers_.clear();
      held_.clear();
      capacity_.clear();
      future.set_result(unstarted_result(spec, JobStatus::error, e.what()));
      return future;
    }
  }
  std::lock_guard lock(mutex_);
  queued_.push_back(spec);
  // The host is worked out only when --max-per-host counts transfers per host (a pause finds it
  // when there is one): a run without politeness options spends nothing on it.
  out_.emplace(spec.seq, Out{future, 0, settings_.url.max_per_host ? url_host(spec.input) : std::string()});
  return future;
}

bool UrlJobs::host_ready(const JobSpec& job, const Out& out, Clock::time_point now) const {
  if (const std::optional<int>& most = settings_.url.max_per_host) {
    auto transfers = transfers_to_.find(out.host);
    if (transfers != transfers_to_.end() && transfers->second >= *most) return false;
  }
  if (host_paused_until_.empty()) return true;
  auto paused = host_paused_until_.find(out.host.empty() ? url_host(job.input) : out.host);
  return paused == host_paused_until_.end() || paused->second <= now;
}

void UrlJobs::flush() {
  if (mode_ == Mode::process) replace_lost_fetchers();
  std::vector<std::vector<JobSpec>> batches(fetchers_.size());
  {
    std::lock_guard lock(mutex_);
    Clock::time_point now = Clock::now();
    for (auto job = queued_.begin(); job != queued_.end();) {
      // The fetcher with the most room.
      std::size_t best = 0;
      for (std::size_t i = 1; i < held_.size(); ++i) {
        if (capacity_[i] - held_[i] > capacity_[best] - held_[best]) best = i;
      }
      if (held_.empty() || held_[best] >= capacity_[best]) break;
      Out& out = out_.at(job->seq);
      if (!host_ready(*job, out, now)) {  // waits; the jobs behind it for other hosts go on
        ++job;
        continue;
      }
      ++held_[best];
      if (settings_.url.max_per_host) ++transfers_to_[out.host];
      out.fetcher = best;
      batches[best].push_back(std::move(*job));
      job = queued_.erase(job);
    }
  }
  // Handed over outside the lock: a fetcher may report (and so call complete()) from add().
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (!batches[i].empty()) fetchers_[i]->add(batches[i]);
  }
}

std::optional<UrlJobs::Clock::time_point> UrlJobs::next_flush() {
  std::lock_guard lock(mutex_);
  if (queued_.empty()) return std::nullopt;
  std::optional<Clock::time_point> next;
  for (const JobSpec& job : queued_) {
    if (host_paused_until_.empty()) break;
    const std::string& host = out_.at(job.seq).host;
    auto paused = host_paused_until_.find(host.empty() ? url_host(job.input) : host);
    if (paused != host_paused_until_.end() && (!next || paused->second < *next)) next = paused->second;
  }
  return next;
}

void UrlJobs::add_results_fds(std::vector<int>& fds) const {
  for (const auto& fetcher : fetchers_) {
    if (fetcher && fetcher->results_fd() >= 0) fds.push_back(fetcher->results_fd());
  }
}

void UrlJobs::take_results(int fd) {
  for (auto& fetcher : fetchers_) {
    if (fetcher && fetcher->results_fd() == fd) fetcher->take_results();
  }
}

void UrlJobs::stop(StopLevel level) {
  std::vector<std::pair<Future<JobResult>, JobResult>> cancelled;
  {
    std::lock_guard lock(mutex_);
    for (const JobSpec& spec : queued_) {
      cancelled.emplace_back(out_.extract(spec.seq).mapped().future, unstarted_result(spec, JobStatus::cancelled));
    }
    queued_.clear();
  }
  for (auto& [future, result] : cancelled) future.set_result(std::move(result));
  for (auto& fetcher : fetchers_) {
    if (fetcher) fetcher->stop(level == StopLevel::draining);
  }
}

void UrlJobs::complete(std::vector<JobResult>& results) {
  std::vector<Future<JobResult>> futures;
  {
    std::lock_guard lock(mutex_);
    for (const JobResult& result : results) {
      auto node = out_.extract(result.seq);
      if (node.empty()) {  // not one of ours: nobody waits for it
        futures.emplace_back();
        continue;
      }
      futures.push_back(node.mapped().future);
      --held_[node.mapped().fetcher];
      if (auto transfers = transfers_to_.find(node.mapped().host);
          transfers != transfers_to_.end() && --transfers->second == 0) {
        transfers_to_.erase(transfers);
      }
      // The host asked every client to wait, not only this job: its queued jobs wait too.
      if (result.retry_after && (result.http_status == 429 || result.http_status == 503)) {
        auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(std::min(*result.retry_after, kMaxHostPause)));
        const std::string& host = node.mapped().host;
        Clock::time_point& paused = host_paused_until_[host.empty() ? url_host(result.input) : host];
        paused = std::max(paused, until);
      }
    }
  }
  for (std::size_t i = 0; i < results.size(); ++i) futures[i].set_result(std::move(results[i]));
}

}  // namespace pexec::cli
