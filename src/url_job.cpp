#include "url_job.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

#include "curl_library.hpp"
#include "stop_signal.hpp"

namespace pexec::cli {

namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) { return std::tolower(a) == b; });
}

/// One attempt's body sink: counts bytes, enforces --max-bytes, writes to the output file.
struct Body {
  std::int64_t bytes = 0;
  std::optional<std::int64_t> max_bytes;
  int fd = -1;
  bool too_large = false;
  int write_errno = 0;  // why writing to the output file failed
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  std::size_t n = size * count;
  if (body->max_bytes && body->bytes + static_cast<std::int64_t>(n) > *body->max_bytes) {
    body->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  body->bytes += static_cast<std::int64_t>(n);
  for (std::size_t done = 0; body->fd >= 0 && done < n;) {
    ssize_t w = ::write(body->fd, data + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      body->write_errno = w < 0 ? errno : ENOSPC;
      return 0;  // aborts the transfer
    }
    done += static_cast<std::size_t>(w);
  }
  return n;
}

// Called by libcurl about once a second when idle, more often while data flows.
int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) { return running_jobs_stop().raised() ? 1 : 0; }

struct SlistDeleter {
  const CurlLibrary* curl;
  void operator()(curl_slist* list) const { curl->slist_free_all(list); }
};

/// A worker's curl handle: its connections are reused between jobs. Options that are the same
/// for every job of a run are set once (libcurl copies and parses them, which is most of its
/// per-request cost); only the URL and the body sink change per job.
class CurlHandle {
 public:
  explicit CurlHandle(const CurlLibrary& library)
      : lib_(library), curl_(lib_.easy_init()), headers_(nullptr, {&lib_}) {}
  ~CurlHandle() { lib_.easy_cleanup(curl_); }
  const CurlLibrary& lib() const { return lib_; }

  CURL* configured_for(const JobSpec& spec) {
    if (configured_ && options_ == spec.url && timeout_ == spec.timeout) return curl_;
    const UrlOptions& url = spec.url;
    lib_.easy_reset(curl_);  // keeps the connection cache: reuse survives the reset
    headers_.reset();
    for (const std::string& header : url.headers) headers_.reset(lib_.slist_append(headers_.release(), header.c_str()));
    lib_.easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    lib_.easy_setopt(curl_, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    lib_.easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 1L);
    lib_.easy_setopt(curl_, CURLOPT_MAXREDIRS, url.max_redirects);
    lib_.easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    lib_.easy_setopt(curl_, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    lib_.easy_setopt(curl_, CURLOPT_USERAGENT, "pexec/0.1.0");
    lib_.easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_.get());
    if (url.method == "HEAD") lib_.easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    if (spec.timeout) lib_.easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(*spec.timeout * 1000)));
    if (url.connect_timeout) {
      lib_.easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::ceil(*url.connect_timeout * 1000)));
    }
    if (url.max_bytes) lib_.easy_setopt(curl_, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(*url.max_bytes));
    lib_.easy_setopt(curl_, CURLOPT_WRITEFUNCTION, on_body);
    lib_.easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
    lib_.easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, on_progress);
    options_ = url;
    timeout_ = spec.timeout;
    configured_ = true;
    return curl_;
  }

 private:
  const CurlLibrary& lib_;
  CURL* curl_;
  std::unique_ptr<curl_slist, SlistDeleter> headers_;
  bool configured_ = false;
  UrlOptions options_;
  std::optional<double> timeout_;
};

/// The outcome of one attempt.
struct Attempt {
  CURLcode code = CURLE_OK;
  long http_status = 0;
  curl_off_t retry_after = 0;
  Body body;
  std::string message;
};

Attempt fetch_once(CurlHandle& handle, const JobSpec& spec, JobResult& result) {
  Attempt attempt;
  CURL* curl = handle.configured_for(spec);
  const CurlLibrary& lib = handle.lib();
  char error_text[CURL_ERROR_SIZE] = "";
  lib.easy_setopt(curl, CURLOPT_URL, spec.input.c_str());
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  lib.easy_setopt(curl, CURLOPT_WRITEDATA, &attempt.body);
  attempt.body.max_bytes = spec.url.max_bytes;
  if (!spec.url.output_dir.empty()) {
    std::string path = spec.url.output_dir + "/" + output_file_name(spec.seq, spec.input);
    attempt.body.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (attempt.body.fd < 0) {
      attempt.code = CURLE_WRITE_ERROR;
      attempt.message = "cannot write " + path + ": " + std::strerror(errno);
      return attempt;
    }
  }

  attempt.code = lib.easy_perform(curl);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);  // error_text goes out of scope
  if (attempt.body.fd >= 0) ::close(attempt.body.fd);
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &attempt.http_status);
  lib.easy_getinfo(curl, CURLINFO_RETRY_AFTER, &attempt.retry_after);
  char* text = nullptr;
  if (lib.easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &text) == CURLE_OK && text)
    result.content_type = text;
  else
    result.content_type.clear();
  if (lib.easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &text) == CURLE_OK && text) result.effective_url = text;
  if (attempt.code != CURLE_OK) attempt.message = error_text[0] ? error_text : lib.easy_strerror(attempt.code);
  return attempt;
}

bool worth_retrying(const Attempt& a) {
  if (a.code == CURLE_COULDNT_CONNECT || a.code == CURLE_OPERATION_TIMEDOUT) return true;
  if (a.code != CURLE_OK) return false;
  return a.http_status == 408 || a.http_status == 429 || a.http_status == 500 || a.http_status == 502 ||
         a.http_status == 503 || a.http_status == 504;
}

/// Sleeps for `seconds` unless pexec stops jobs first; false if it did.
bool pause_unless_stopped(double seconds) {
  pollfd stop{running_jobs_stop().fd(), POLLIN, 0};
  return ::poll(&stop, 1, static_cast<int>(seconds * 1000)) == 0;
}

}  // namespace

bool is_url(std::string_view item) {
  return starts_with_ignoring_case(item, "http://") || starts_with_ignoring_case(item, "https://");
}

std::string output_file_name(std::uint64_t seq, std::string_view url) {
  if (std::size_t scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("?#"));
  std::size_t path = url.find('/');
  std::string_view segment = path == std::string_view::npos ? "" : url.substr(url.rfind('/') + 1);
  std::string name;
  for (char c : segment.substr(0, 200)) {
    bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    name += plain ? c : '_';
  }
  if (name.empty() || name == "." || name == "..") name = "index";
  return std::to_string(seq) + "-" + name;
}

JobResult run_url_job(const JobSpec& spec, const std::string& worker) {
  JobResult result = started_result(spec, worker);
  auto started = std::chrono::steady_clock::now();
  auto finish = [&](JobStatus status) -> JobResult {
    result.status = status;
    result.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  };
  if (!is_url(spec.input)) {
    result.error = "not an http or https URL";
    return finish(JobStatus::error);
  }

  std::string load_error;
  const CurlLibrary* library = curl_library(load_error);
  if (!library) {
    result.error = load_error;
    return finish(JobStatus::error);
  }
  thread_local CurlHandle handle(*library);  // one per worker thread or process: connections are reused
  Attempt attempt;
  while (true) {
    ++result.attempts;
    attempt = fetch_once(handle, spec, result);
    if (!worth_retrying(attempt) || result.attempts > spec.url.retries) break;
    // Exponential backoff from 0.1 s, or what the server asked for with Retry-After.
    double wait =
        attempt.retry_after > 0 ? static_cast<double>(attempt.retry_after) : 0.1 * std::pow(2.0, result.attempts - 1);
    if (!pause_unless_stopped(std::min(wait, 60.0))) return finish(JobStatus::killed);
  }

  result.bytes = attempt.body.bytes;
  if (attempt.http_status > 0) result.http_status = static_cast<int>(attempt.http_status);
  if (attempt.body.write_errno) {
    result.error = "cannot save the body in " + spec.url.output_dir + ": " + std::strerror(attempt.body.write_errno);
    return finish(JobStatus::error);
  }
  if (attempt.body.too_large || attempt.code == CURLE_FILESIZE_EXCEEDED) {
    result.error = "body larger than --max-bytes " + std::to_string(*spec.url.max_bytes);
    return finish(JobStatus::failed);
  }
  switch (attempt.code) {
    case CURLE_OK:
      if (attempt.http_status >= 400) result.error = "HTTP " + std::to_string(attempt.http_status);
      return finish(attempt.http_status < 400 ? JobStatus::ok : JobStatus::failed);
    case CURLE_OPERATION_TIMEDOUT:
      result.error = attempt.message;
      return finish(JobStatus::timeout);
    case CURLE_ABORTED_BY_CALLBACK:
      result.error = "stopped by pexec";
      return finish(JobStatus::killed);
    default:
      result.error = attempt.message;
      return finish(JobStatus::error);
  }
}

}  // namespace pexec::cli
