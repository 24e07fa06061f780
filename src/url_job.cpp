#include "url_job.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace pexec::cli {

namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) { return std::tolower(a) == b; });
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool worth_retrying(CURLcode code, long http_status) {
  if (code == CURLE_COULDNT_CONNECT || code == CURLE_OPERATION_TIMEDOUT) return true;
  if (code != CURLE_OK) return false;
  return http_status == 408 || http_status == 429 || http_status == 500 || http_status == 502 || http_status == 503 ||
         http_status == 504;
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

void UrlJob::configure_handle(const CurlLibrary& lib, CURL* curl, const RunSettings& settings, curl_slist*& headers) {
  const UrlOptions& url = settings.url;
  lib.easy_reset(curl);  // keeps the connection cache: reuse survives the reset
  lib.slist_free_all(headers);
  headers = nullptr;
  for (const std::string& header : url.headers) headers = lib.slist_append(headers, header.c_str());
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  lib.easy_setopt(curl, CURLOPT_MAXREDIRS, url.max_redirects);
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(curl, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  lib.easy_setopt(curl, CURLOPT_USERAGENT, "pexec/0.1.0");
  lib.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (url.method == "HEAD") lib.easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (settings.timeout) {
    lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(*settings.timeout * 1000)));
  }
  if (url.connect_timeout) {
    lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::ceil(*url.connect_timeout * 1000)));
  }
  if (url.max_bytes) lib.easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(*url.max_bytes));
  lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, &UrlJob::on_body);
  // libcurl looks for proxy variables in the environment at every transfer; when there are none
  // to find, saying so once spares that (same result: no proxy).
  static const bool no_proxy_variables = [] {
    for (const char* name : {"http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"}) {
      if (std::getenv(name)) return false;
    }
    return true;
  }();
  if (no_proxy_variables) lib.easy_setopt(curl, CURLOPT_PROXY, "");
}

UrlJob::UrlJob(JobSpec spec, const RunSettings& settings, const std::string& worker)
    : spec_(std::move(spec)), settings_(settings), result_(started_result(spec_, worker)), started_ns_(steady_ns()) {}

std::size_t UrlJob::on_body(char* data, std::size_t size, std::size_t count, void* user) {
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

bool UrlJob::begin(const CurlLibrary& lib, CURL* curl) {
  if (!is_url(spec_.input)) {
    finish(JobStatus::error, "not an http or https URL");
    return false;
  }
  body_ = Body{};
  body_.max_bytes = settings_.url.max_bytes;
  if (!settings_.url.output_dir.empty()) {
    std::string path = settings_.url.output_dir + "/" + output_file_name(spec_.seq, spec_.input);
    body_.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (body_.fd < 0) {
      finish(JobStatus::error, "cannot write " + path + ": " + std::strerror(errno));
      return false;
    }
  }
  error_text_[0] = '\0';
  lib.easy_setopt(curl, CURLOPT_URL, spec_.input.c_str());
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text_);
  lib.easy_setopt(curl, CURLOPT_WRITEDATA, &body_);
  lib.easy_setopt(curl, CURLOPT_PRIVATE, this);
  return true;
}

void UrlJob::end(const CurlLibrary& lib, CURL* curl, CURLcode code) {
  if (body_.fd >= 0) ::close(body_.fd);
  body_.fd = -1;
  long http_status = 0;
  curl_off_t retry_after = 0;
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  lib.easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
  char* text = nullptr;
  if (lib.easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &text) == CURLE_OK && text)
    result_.content_type = text;
  else
    result_.content_type.clear();
  if (lib.easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &text) == CURLE_OK && text)
    result_.effective_url = url_for_display(text);
  std::string message;
  if (code != CURLE_OK) message = error_text_[0] ? error_text_ : lib.easy_strerror(code);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);

  result_.retryable = worth_retrying(code, http_status);
  if (retry_after > 0) result_.retry_after = static_cast<double>(retry_after);
  result_.bytes = body_.bytes;
  if (http_status > 0) result_.http_status = static_cast<int>(http_status);
  if (body_.write_errno) {
    finish(JobStatus::error,
           "cannot save the body in " + settings_.url.output_dir + ": " + std::strerror(body_.write_errno));
  } else if (body_.too_large || code == CURLE_FILESIZE_EXCEEDED) {
    finish(JobStatus::failed, "body larger than --max-bytes " + std::to_string(*settings_.url.max_bytes));
  } else if (code == CURLE_OK) {
    if (http_status >= 400)
      finish(JobStatus::failed, "HTTP " + std::to_string(http_status));
    else
      finish(JobStatus::ok);
  } else {
    finish(code == CURLE_OPERATION_TIMEDOUT ? JobStatus::timeout : JobStatus::error, message);
  }
}

void UrlJob::stop() {
  if (body_.fd >= 0) ::close(body_.fd);
  body_.fd = -1;
  result_.bytes = body_.bytes;
  finish(JobStatus::killed, "stopped by pexec");
}

void UrlJob::finish(JobStatus status, std::string error) {
  result_.status = status;
  result_.error = std::move(error);
  result_.duration_s = static_cast<double>(steady_ns() - started_ns_) / 1e9;
}

}  // namespace pexec::cli
