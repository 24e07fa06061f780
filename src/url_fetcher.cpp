#include "url_fetcher.hpp"

#include <algorithm>
#include <stdexcept>

namespace pexec::cli {

UrlFetcher::UrlFetcher(const CurlLibrary& lib, int max_transfers, std::string worker, const RunSettings& settings,
                       Done done)
    : lib_(lib),
      max_transfers_(std::max(1, max_transfers)),
      worker_(std::move(worker)),
      settings_(settings),
      done_(std::move(done)),
      multi_(lib_.multi_init()) {
  if (!multi_) throw std::runtime_error("curl_multi_init failed");
  // Transfers to one https host share a connection (HTTP/2 streams) unless --http1.1.
  lib_.multi_setopt(multi_, CURLMOPT_PIPELINING, settings.url.http1_1 ? CURLPIPE_NOTHING : CURLPIPE_MULTIPLEX);
}

UrlFetcher::~UrlFetcher() {
  for (auto& [job, transfer] : running_) lib_.multi_remove_handle(multi_, transfer.handle->curl);
  for (auto& handle : handles_) {
    lib_.easy_cleanup(handle->curl);
    lib_.url_cleanup(handle->url);
    lib_.slist_free_all(handle->headers);
  }
  lib_.multi_cleanup(multi_);
}

void UrlFetcher::add(std::vector<JobSpec>& specs) {
  if (specs.empty()) return;
  std::lock_guard lock(mutex_);
  for (JobSpec& spec : specs) incoming_.push_back(std::move(spec));
  specs.clear();
  // Only a sleeping loop needs the wake-up (a write to curl's wake-up pipe): a busy one takes
  // new jobs at its next turn.
  if (sleeping_) {
    sleeping_ = false;
    lib_.multi_wakeup(multi_);
  }
}

void UrlFetcher::stop(bool let_running_finish) {
  std::lock_guard lock(mutex_);
  cancel_requested_ = true;
  if (!let_running_finish) abort_requested_ = true;
  lib_.multi_wakeup(multi_);
}

void UrlFetcher::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  lib_.multi_wakeup(multi_);
}

void UrlFetcher::run() {
  while (true) {
    take_requests();
    // After the first turn of a stop nothing runs (an abort cancels too, so no job starts again),
    // and these find nothing to do.
    if (aborting_) end_running([](UrlJob& job) { job.stop(); });
    if (cancelling_) cancel_queued();
    start_queued();
    int still_running = 0;
    if (CURLMcode code = lib_.multi_perform(multi_, &still_running); code != CURLM_OK) {
      std::string error = "curl_multi_perform failed: libcurl multi error " + std::to_string(code);
      end_running([&](UrlJob& job) { job.fail(error); });
    }
    collect_finished();
    start_queued();  // into the slots just freed, before sleeping
    deliver_finished();

    std::unique_lock lock(mutex_);
    if (closed_ && incoming_.empty() && queued_.empty() && running_.empty()) return;
    if (!incoming_.empty() || (abort_requested_ && !aborting_) || (cancel_requested_ && !cancelling_)) continue;
    sleeping_ = true;
    lock.unlock();
    // Returns on socket activity, on curl's own timers, on a wake-up, or when the watched fd is
    // readable.
    curl_waitfd watched{watched_fd_, CURL_WAIT_POLLIN, 0};
    if (lib_.multi_poll(multi_, &watched, watched_fd_ >= 0 ? 1 : 0, poll_timeout_ms(), nullptr) != CURLM_OK) {
      watched.revents = 0;  // nothing is known to have happened: the next turn looks again
    }
    {
      std::lock_guard relock(mutex_);
      sleeping_ = false;
    }
    if (watched_fd_ >= 0 && watched.revents && !on_readable_()) watched_fd_ = -1;
  }
}

int UrlFetcher::poll_timeout_ms() const {
  if (queued_.empty() || !settings_.url.rate || static_cast<int>(running_.size()) >= max_transfers_) return 1000;
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_start_ - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 1000));
}

void UrlFetcher::watch(int fd, std::function<bool()> on_readable) {
  watched_fd_ = fd;
  on_readable_ = std::move(on_readable);
}

void UrlFetcher::take_requests() {
  std::lock_guard lock(mutex_);
  for (JobSpec& spec : incoming_) queued_.push_back(std::move(spec));
  incoming_.clear();
  if (cancel_requested_) cancelling_ = true;
  if (abort_requested_) aborting_ = true;
}

void UrlFetcher::cancel_queued() {
  for (JobSpec& spec : queued_) finished_.push_back(unstarted_result(spec, JobStatus::cancelled));
  queued_.clear();
}

void UrlFetcher::deliver_finished() {
  if (finished_.empty()) return;
  done_(finished_);
  finished_.clear();
}

UrlFetcher::Handle* UrlFetcher::take_handle() {
  Handle* handle;
  if (!idle_handles_.empty()) {
    handle = idle_handles_.back();
    idle_handles_.pop_back();
  } else {
    CURL* curl = lib_.easy_init();
    CURLU* url = curl ? lib_.url() : nullptr;
    if (!url) {
      if (curl) lib_.easy_cleanup(curl);
      return nullptr;
    }
    handles_.push_back(std::make_unique<Handle>());
    handle = handles_.back().get();
    handle->curl = curl;
    handle->url = url;
    UrlJob::configure_handle(lib_, handle->curl, settings_, handle->headers);
  }
  return handle;
}

void UrlFetcher::start_queued() {
  while (!queued_.empty() && static_cast<int>(running_.size()) < max_transfers_) {
    // --rate: starts 1/rate apart, however the jobs arrived.
    if (settings_.url.rate && std::chrono::steady_clock::now() < next_start_) break;
    auto job = std::make_unique<UrlJob>(std::move(queued_.front()), settings_, worker_);  // stamps its start
    queued_.pop_front();
    if (settings_.url.rate) {
      // Counted from after the stamp, so that no two reported starts are closer than 1/rate
      // (counted from before it, a stamp taken late made the next gap short).
      next_start_ = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                           std::chrono::duration<double>(1 / *settings_.url.rate));
    }
    UrlJob* key = job.get();
    Transfer& transfer = running_[key];
    transfer.job = std::move(job);
    transfer.handle = take_handle();
    if (!transfer.handle) {  // libcurl could not make one (out of memory)
      key->fail("curl_easy_init failed");
      finish(key);
      continue;
    }
    start_transfer(transfer);
  }
}

void UrlFetcher::start_transfer(Transfer& transfer) {
  if (!transfer.job->begin(lib_, transfer.handle->curl, transfer.handle->url)) return finish(transfer.job.get());
  if (CURLMcode code = lib_.multi_add_handle(multi_, transfer.handle->curl); code != CURLM_OK) {
    transfer.job->fail("curl_multi_add_handle failed: libcurl multi error " + std::to_string(code));
    finish(transfer.job.get());
  }
}

void UrlFetcher::collect_finished() {
  int left = 0;
  while (CURLMsg* message = lib_.multi_info_read(multi_, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* curl = message->easy_handle;
    CURLcode code = message->data.result;
    lib_.multi_remove_handle(multi_, curl);
    char* key = nullptr;
    lib_.easy_getinfo(curl, CURLINFO_PRIVATE, &key);
    UrlJob* job = reinterpret_cast<UrlJob*>(key);
    job->end(lib_, curl, code);
    finish(job);
  }
}

void UrlFetcher::end_running(const std::function<void(UrlJob&)>& end) {
  std::vector<UrlJob*> jobs;
  for (auto& [job, transfer] : running_) {
    lib_.multi_remove_handle(multi_, transfer.handle->curl);
    jobs.push_back(job);
  }
  for (UrlJob* job : jobs) {
    end(*job);
    finish(job);
  }
}

void UrlFetcher::finish(UrlJob* job) {
  auto node = running_.extract(job);
  if (node.mapped().handle) idle_handles_.push_back(node.mapped().handle);
  finished_.push_back(std::move(job->result()));
}

}  // namespace pexec::cli
