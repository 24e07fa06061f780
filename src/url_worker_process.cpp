#include "url_worker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <string_view>
#include <vector>

#include "pexec/detail/frames.hpp"
#include "pexec/detail/spawn_self.hpp"
#include "url_job.hpp"

namespace pexec::cli {

namespace {

constexpr const char* kUrlWorkerVariable = "PEXEC_URL_WORKER";  // its value: the transfer limit
constexpr const char* kLostMessage = "the URL worker process exited unexpectedly";

// The URL worker's wire format: CBOR frames holding arrays, lean because a run sends thousands.
// To the worker: ["options", RunSettings] (first, once), ["job", seq, input] or, when the job
// has request parts of its own (--data, -O ... with replacement strings), ["job", seq, input,
// UrlJobParts]; ["stop", let_running_finish]. From it, per job: [seq, status, start_ms,
// duration_s, error, http_status, bytes, content_type, effective_url, retryable, retry_after,
// http_version, skipped] and, with --stdout-body, the body (a CapturedOutput: a spill file goes
// by name); the parent knows the rest.

nlohmann::json result_to_wire(const JobResult& r) {
  nlohmann::json wire =
      nlohmann::json::array({r.seq, r.status, r.start_ms, r.duration_s, r.error, r.http_status, r.bytes, r.content_type,
                             r.effective_url, r.retryable, r.retry_after, r.http_version, r.skipped});
  if (!r.out.empty()) wire.push_back(r.out);
  return wire;
}

JobResult result_from_wire(const nlohmann::json& wire, const JobSpec& spec, const std::string& worker) {
  JobResult r = unstarted_result(spec, wire.at(1).get<JobStatus>(), wire.at(4).get<std::string>());
  r.start_ms = wire.at(2).get<std::int64_t>();
  r.duration_s = wire.at(3).get<double>();
  r.worker = worker;
  r.http_status = wire.at(5).get<std::optional<int>>();
  r.bytes = wire.at(6).get<std::int64_t>();
  r.content_type = wire.at(7).get<std::string>();
  r.effective_url = wire.at(8).get<std::string>();
  r.retryable = wire.at(9).get<bool>();
  r.retry_after = wire.at(10).get<std::optional<double>>();
  r.http_version = wire.at(11).get<std::string>();
  r.skipped = wire.at(12).get<bool>();
  if (wire.size() > 13) r.out = wire.at(13).get<CapturedOutput>();
  return r;
}

/// The parent's side of a URL worker process. Its results are read by the caller's loop (the
/// Engine's ppoll watches results_fd()), on the caller's thread: no thread of pexec's stands
/// between the worker and the loop, so a batch of results costs one wakeup, not two. Every call
/// comes from that one thread. End of input closes the worker.
class FetcherProcess final : public UrlFetcherHost {
 public:
  FetcherProcess(int max_transfers, const RunSettings& settings, UrlFetcher::Done done)
      : done_(std::move(done)),
        worker_(detail::spawn_self(kUrlWorkerVariable, std::to_string(max_transfers))),
        worker_name_("pid:" + std::to_string(worker_.pid)) {
    // Both ends non-blocking: send() reads results while the worker's side of its pipe is full.
    for (int fd : {worker_.to_worker, worker_.from_worker}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    send(detail::encode_frame(nlohmann::json::array({"options", settings})));
  }

  ~FetcherProcess() override {
    ::close(worker_.to_worker);  // end of input: the worker finishes its jobs, reports them and exits
    ::fcntl(worker_.from_worker, F_SETFL, ::fcntl(worker_.from_worker, F_GETFL) & ~O_NONBLOCK);
    while (!lost_) take_results();
    ::close(worker_.from_worker);
    while (::waitpid(worker_.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }

  void add(std::vector<JobSpec>& specs) override {
    if (lost_) {
      std::vector<JobResult> lost;
      for (const JobSpec& spec : specs) lost.push_back(unstarted_result(spec, JobStatus::error, kLostMessage));
      specs.clear();
      done_(lost);
      return;
    }
    std::string frames;
    for (JobSpec& spec : specs) {
      nlohmann::json job = nlohmann::json::array({"job", spec.seq, spec.input});
      if (spec.url != UrlJobParts{}) job.push_back(spec.url);
      frames += detail::encode_frame(job);
      in_worker_.emplace(spec.seq, std::move(spec));
    }
    specs.clear();
    send(frames);
  }

  bool lost() const override { return lost_; }

  void stop(bool let_running_finish) override {
    stopped_ = true;
    if (!lost_) send(detail::encode_frame(nlohmann::json::array({"stop", let_running_finish})));
  }

  int results_fd() const override { return lost_ ? -1 : worker_.from_worker; }

  void take_results() override {
    ssize_t n = detail::read_frames(worker_.from_worker, buffer_, messages_);
    if (n < 0 && errno == EAGAIN) return;
    std::vector<JobResult> results;
    for (const nlohmann::json& message : messages_) {
      auto node = in_worker_.extract(message.at(0).get<std::uint64_t>());
      if (!node.empty()) results.push_back(result_from_wire(message, node.mapped(), worker_name_));
    }
    messages_.clear();
    if (n <= 0) {
      // The worker exited: normally after its last job; if jobs are left, it died with them.
      lost_ = true;
      for (auto& [seq, spec] : in_worker_) {
        results.push_back(unstarted_result(spec, stopped_ ? JobStatus::killed : JobStatus::error, kLostMessage));
      }
      in_worker_.clear();
    }
    if (!results.empty()) done_(results);
  }

 private:
  /// Writes `frames` to the worker. While its pipe is full, the worker's results are read (and
  /// reported): a worker blocked writing to pexec then never waits for pexec blocked writing to
  /// it. A failed write means the worker is gone: take_results() reports its jobs at its end.
  void send(const std::string& frames) {
    std::string_view rest = frames;
    while (!rest.empty() && !lost_) {
      ssize_t n = ::write(worker_.to_worker, rest.data(), rest.size());
      if (n > 0) {
        rest.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EAGAIN) {
        pollfd fds[2] = {{worker_.to_worker, POLLOUT, 0}, {worker_.from_worker, POLLIN, 0}};
        if (::poll(fds, 2, -1) > 0 && fds[1].revents) take_results();
      } else if (n < 0 && errno != EINTR) {
        return;
      }
    }
  }

  UrlFetcher::Done done_;
  detail::SelfWorker worker_;
  const std::string worker_name_;
  std::map<std::uint64_t, JobSpec> in_worker_;
  std::string buffer_;  // the worker's results, read but not yet whole
  std::vector<nlohmann::json> messages_;
  bool lost_ = false;
  bool stopped_ = false;
};

void send_results(std::vector<JobResult>& results) {
  std::string frames;
  for (const JobResult& result : results) frames += detail::encode_frame(result_to_wire(result));
  // A failed write means pexec is gone; the loop finishes its jobs and exits at end of input.
  detail::write_all(detail::kResponseFd, frames);
}

/// Reads the messages pexec sends on kRequestFd: first the run's settings, then jobs (the jobs
/// of one read go to `add` together) and stops (to `stop`).
class RequestReader {
 public:
  /// some: messages taken, and there may be more; all: messages taken, and the pipe was left
  /// empty (a read shorter than asked for), so reading again would only find nothing yet.
  enum class Read { some, all, none_yet, end };

  /// The first message, waited for; nothing if pexec is gone.
  std::optional<RunSettings> read_settings() {
    std::optional<nlohmann::json> message = detail::read_frame(detail::kRequestFd, buffer_);
    if (!message || message->at(0) != "options") return std::nullopt;
    return message->at(1).get<RunSettings>();
  }

  /// Reads once: blocks or not as the fd does.
  template <class Add, class Stop>
  Read read(Add add, Stop stop) {
    // Frames read with the settings come first; the fd is read only when none is left.
    while (std::optional<nlohmann::json> message = detail::take_frame(buffer_))
      messages_.push_back(std::move(*message));
    Read taken = Read::some;
    if (messages_.empty()) {
      ssize_t n = detail::read_frames(detail::kRequestFd, buffer_, messages_);
      if (n < 0 && errno == EAGAIN) return Read::none_yet;
      if (n <= 0) return Read::end;
      if (static_cast<std::size_t>(n) < detail::kFramesReadSize) taken = Read::all;
    }
    for (const nlohmann::json& message : messages_) {
      const std::string& kind = message.at(0).get_ref<const std::string&>();
      if (kind == "job") {
        JobSpec spec;
        spec.seq = message.at(1).get<std::uint64_t>();
        spec.input = message.at(2).get<std::string>();
        if (message.size() > 3) spec.url = message.at(3).get<UrlJobParts>();
        spec.kind = JobKind::url;
        jobs_.push_back(std::move(spec));
      } else if (kind == "stop") {
        add(jobs_);  // before the stop, as they were sent
        stop(message.at(1).get<bool>());
      }
    }
    messages_.clear();
    add(jobs_);
    return taken;
  }

 private:
  std::string buffer_;
  std::vector<nlohmann::json> messages_;
  std::vector<JobSpec> jobs_;
};

}  // namespace

std::unique_ptr<UrlFetcherHost> start_url_worker_process(int max_transfers, const RunSettings& settings,
                                                         UrlFetcher::Done done) {
  return std::make_unique<FetcherProcess>(max_transfers, settings, std::move(done));
}

void serve_url_jobs_if_worker() {
  const char* role = std::getenv(kUrlWorkerVariable);
  if (!role) return;
  int max_transfers = std::atoi(role);
  ::unsetenv(kUrlWorkerVariable);
  ::signal(SIGINT, SIG_IGN);   // Ctrl-C is pexec's to handle: it sends "stop"
  ::signal(SIGPIPE, SIG_IGN);  // pexec gone: writes fail instead
  ::signal(SIGUSR1, SIG_IGN);  // pexec's: "killall -USR1 pexec" lists the running jobs

  std::string error;
  const CurlLibrary* lib = curl_library(error);
  RequestReader requests;
  std::optional<RunSettings> settings = requests.read_settings();
  if (!settings) std::exit(0);
  if (settings->url.stdout_body) CapturedOutput::keep_spill_files_named();  // bodies go to pexec by name
  if (!lib) {  // every job fails the way it would in thread mode
    auto fail = [&](std::vector<JobSpec>& specs) {
      std::vector<JobResult> results;
      for (const JobSpec& spec : specs) results.push_back(unstarted_result(spec, JobStatus::error, error));
      specs.clear();
      send_results(results);
    };
    while (requests.read(fail, [](bool) {}) != RequestReader::Read::end) {
    }
    std::exit(0);
  }
  UrlFetcher fetcher(*lib, max_transfers, "pid:" + std::to_string(::getpid()), *settings, send_results);
  ::fcntl(detail::kRequestFd, F_SETFL, ::fcntl(detail::kRequestFd, F_GETFL) | O_NONBLOCK);
  auto take_requests = [&] {
    auto add = [&](std::vector<JobSpec>& specs) { fetcher.add(specs); };
    auto stop = [&](bool let_running_finish) { fetcher.stop(let_running_finish); };
    RequestReader::Read read;
    while ((read = requests.read(add, stop)) == RequestReader::Read::some) {
    }
    if (read == RequestReader::Read::all || read == RequestReader::Read::none_yet) return true;
    // End of input: after the last job pexec closes its end, and nothing is running any more;
    // if pexec died, nobody wants the transfers still running: stop them.
    fetcher.stop(false);
    fetcher.close();
    return false;
  };
  // Jobs that came with the settings are already read: taken before waiting on the fd.
  if (take_requests()) fetcher.watch(detail::kRequestFd, take_requests);
  fetcher.run();
  std::exit(0);
}

}  // namespace pexec::cli
