#include "url_fetcher_host.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "pexec/detail/frames.hpp"
#include "pexec/detail/spawn_self.hpp"

namespace pexec::cli {

namespace {

constexpr const char* kUrlWorkerVariable = "PEXEC_URL_WORKER";  // its value: the transfer limit

class FetcherThread final : public UrlFetcherHost {
 public:
  FetcherThread(const CurlLibrary& lib, int max_transfers, int index, UrlFetcher::Done done)
      : fetcher_(lib, max_transfers, "UrlFetcher-" + std::to_string(index), std::move(done)),
        thread_([this] { fetcher_.run(); }) {}
  ~FetcherThread() override {
    fetcher_.close();
    thread_.join();
  }
  void add(JobSpec spec) override { fetcher_.add(std::move(spec)); }
  void stop(bool let_running_finish) override { fetcher_.stop(let_running_finish); }

 private:
  UrlFetcher fetcher_;
  std::thread thread_;
};

/// The parent's side of a URL worker process. Messages to it: {"job": JobSpec} and
/// {"stop": let_running_finish}; from it: one JobResult per job. End of input closes it.
class FetcherProcess final : public UrlFetcherHost {
 public:
  FetcherProcess(int max_transfers, UrlFetcher::Done done)
      : done_(std::move(done)),
        worker_(detail::spawn_self(kUrlWorkerVariable, std::to_string(max_transfers))),
        reader_([this] { read_results(); }) {}

  ~FetcherProcess() override {
    ::close(worker_.to_worker);  // end of input: the worker finishes its jobs and exits
    reader_.join();
    ::close(worker_.from_worker);
    while (::waitpid(worker_.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }

  void add(JobSpec spec) override {
    std::string frame = detail::encode_frame({{"job", spec}});
    {
      std::lock_guard lock(mutex_);
      if (!lost_) {
        in_worker_.emplace(spec.seq, std::move(spec));
        // A failed write means the worker is gone: read_results() reports its jobs at EOF.
        detail::write_all(worker_.to_worker, frame);
        return;
      }
    }
    JobResult result = unstarted_result(spec, JobStatus::error, "the URL worker process exited");
    done_(result);
  }

  void stop(bool let_running_finish) override {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    if (!lost_) detail::write_all(worker_.to_worker, detail::encode_frame({{"stop", let_running_finish}}));
  }

 private:
  void read_results() {
    std::string buffer;
    while (std::optional<nlohmann::json> message = detail::read_frame(worker_.from_worker, buffer)) {
      JobResult result = message->get<JobResult>();
      {
        std::lock_guard lock(mutex_);
        in_worker_.erase(result.seq);
      }
      done_(result);
    }
    // The worker exited: normally after its last job; if jobs are left, it died with them.
    std::map<std::uint64_t, JobSpec> lost;
    bool stopped;
    {
      std::lock_guard lock(mutex_);
      lost_ = true;
      lost.swap(in_worker_);
      stopped = stopped_;
    }
    for (auto& [seq, spec] : lost) {
      JobResult result = unstarted_result(spec, stopped ? JobStatus::killed : JobStatus::error,
                                          "the URL worker process exited unexpectedly");
      done_(result);
    }
  }

  UrlFetcher::Done done_;
  detail::SelfWorker worker_;
  std::mutex mutex_;  // guards the writes to the worker and the state below
  std::map<std::uint64_t, JobSpec> in_worker_;
  bool lost_ = false;
  bool stopped_ = false;
  std::thread reader_;
};

void send_result(JobResult& result) {
  // A failed write means pexec is gone; the loop finishes its jobs and exits at end of input.
  detail::write_all(detail::kResponseFd, detail::encode_frame(result));
}

}  // namespace

std::unique_ptr<UrlFetcherHost> start_url_fetcher_thread(const CurlLibrary& lib, int max_transfers, int index,
                                                         UrlFetcher::Done done) {
  return std::make_unique<FetcherThread>(lib, max_transfers, index, std::move(done));
}

std::unique_ptr<UrlFetcherHost> start_url_worker_process(int max_transfers, UrlFetcher::Done done) {
  return std::make_unique<FetcherProcess>(max_transfers, std::move(done));
}

void serve_url_jobs_if_worker() {
  const char* role = std::getenv(kUrlWorkerVariable);
  if (!role) return;
  int max_transfers = std::atoi(role);
  ::unsetenv(kUrlWorkerVariable);
  ::signal(SIGINT, SIG_IGN);   // Ctrl-C is pexec's to handle: it sends "stop"
  ::signal(SIGPIPE, SIG_IGN);  // pexec gone: writes fail instead

  std::string error;
  const CurlLibrary* lib = curl_library(error);
  std::string buffer;
  if (!lib) {  // every job fails the way it would in thread mode
    while (std::optional<nlohmann::json> message = detail::read_frame(detail::kRequestFd, buffer)) {
      if (!message->contains("job")) continue;
      JobResult result = unstarted_result(message->at("job").get<JobSpec>(), JobStatus::error, error);
      send_result(result);
    }
    std::exit(0);
  }
  UrlFetcher fetcher(*lib, max_transfers, "pid:" + std::to_string(::getpid()), send_result);
  std::thread reader([&] {
    while (std::optional<nlohmann::json> message = detail::read_frame(detail::kRequestFd, buffer)) {
      if (message->contains("job"))
        fetcher.add(message->at("job").get<JobSpec>());
      else
        fetcher.stop(message->at("stop").get<bool>());
    }
    fetcher.close();
  });
  fetcher.run();
  reader.join();
  std::exit(0);
}

}  // namespace pexec::cli
