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

}  // namespace

UrlJobs::~UrlJobs() { fetchers_.clear(); }

void UrlJobs::start_fetchers() {
  // One loop per CPU: each loop keeps its transfers' libcurl work on one thread without switches,
  // and more loops would only compete for the same CPUs (bench/url-jobs.sh measured one and two
  // on two CPUs: within noise of each other, both far ahead of a thread per transfer).
  int count = std::clamp(process_cpu_count(), 1, max_transfers_);
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
  out_.emplace(spec.seq, Out{future});
  return future;
}

void UrlJobs::flush() {
  if (mode_ == Mode::process) replace_lost_fetchers();
  std::vector<std::vector<JobSpec>> batches(fetchers_.size());
  {
    std::lock_guard lock(mutex_);
    while (!queued_.empty()) {
      // The fetcher with the most room.
      std::size_t best = 0;
      for (std::size_t i = 1; i < held_.size(); ++i) {
        if (capacity_[i] - held_[i] > capacity_[best] - held_[best]) best = i;
      }
      if (held_.empty() || held_[best] >= capacity_[best]) break;
      ++held_[best];
      out_.at(queued_.front().seq).fetcher = best;
      batches[best].push_back(std::move(queued_.front()));
      queued_.pop_front();
    }
  }
  // Handed over outside the lock: a fetcher may report (and so call complete()) from add().
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (!batches[i].empty()) fetchers_[i]->add(batches[i]);
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
    }
  }
  for (std::size_t i = 0; i < results.size(); ++i) futures[i].set_result(std::move(results[i]));
}

}  // namespace pexec::cli
