#include "url_jobs.hpp"

#include <algorithm>
#include <stdexcept>

#include "pexec/cpu_count.hpp"

namespace pexec::cli {

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
    fetchers_.push_back(lib ? start_url_fetcher_thread(*lib, transfers, i, done)
                            : start_url_worker_process(transfers, done));
    jobs_out_.push_back(0);
    transfers_.push_back(transfers);
  }
}

Future<JobResult> UrlJobs::submit(const JobSpec& spec) {
  Future<JobResult> future;
  if (fetchers_.empty()) {
    try {
      start_fetchers();
    } catch (const std::exception& e) {  // no libcurl, or no worker process
      fetchers_.clear();
      future.set_result(unstarted_result(spec, JobStatus::error, e.what()));
      return future;
    }
  }
  std::size_t fetcher;
  {
    std::lock_guard lock(mutex_);
    // The least loaded for its size: jobs out per transfer slot.
    fetcher = 0;
    for (std::size_t i = 1; i < jobs_out_.size(); ++i) {
      if (jobs_out_[i] * transfers_[fetcher] < jobs_out_[fetcher] * transfers_[i]) fetcher = i;
    }
    ++jobs_out_[fetcher];
    out_.emplace(spec.seq, Out{future, fetcher});
  }
  fetchers_[fetcher]->add(spec);
  return future;
}

void UrlJobs::flush() {
  for (auto& fetcher : fetchers_) fetcher->flush();
}

void UrlJobs::stop(bool let_running_finish) {
  for (auto& fetcher : fetchers_) fetcher->stop(let_running_finish);
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
      --jobs_out_[node.mapped().fetcher];
    }
  }
  for (std::size_t i = 0; i < results.size(); ++i) futures[i].set_result(std::move(results[i]));
}

}  // namespace pexec::cli
