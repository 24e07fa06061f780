#include "url_fetcher_host.hpp"

#include <thread>

namespace pexec::cli {

namespace {

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

std::unique_ptr<UrlFetcherHost> start_url_fetcher_thread(const CurlLibrary& lib, int max_transfers, int index,
                                                         const RunSettings& settings, UrlFetcher::Done done) {
  return std::make_unique<FetcherThread>(lib, max_transfers, index, settings, std::move(done));
}

}  // namespace pexec::cli
