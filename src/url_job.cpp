#include "url_job.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

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

/// Whether a -H header (or the user's) already names `name`, case aside.
bool has_header(const std::vector<std::string>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const std::string& header) {
    return header.size() > name.size() && header[name.size()] == ':' && starts_with_ignoring_case(header, name);
  });
}

/// The -H list for curl: the user's headers, then --json's two unless the user gave them.
curl_slist* header_list(const CurlLibrary& lib, const std::vector<std::string>& headers, bool json) {
  curl_slist* list = nullptr;
  for (const std::string& header : headers) list = lib.slist_append(list, header.c_str());
  if (json && !has_header(headers, "content-type")) list = lib.slist_append(list, "Content-Type: application/json");
  if (json && !has_header(headers, "accept")) list = lib.slist_append(list, "Accept: application/json");
  return list;
}

std::string http_version_name(long version) {
  switch (version) {
    case CURL_HTTP_VERSION_1_0:
      return "1.0";
    case CURL_HTTP_VERSION_1_1:
      return "1.1";
    case CURL_HTTP_VERSION_2_0:
      return "2";
    case CURL_HTTP_VERSION_3:
      return "3";
    default:
      return "";
  }
}

/// openat() that never resolves to a place outside `dir_fd` (openat2's RESOLVE_BENEATH, Linux
/// 5.6); where the kernel lacks openat2, the names were checked for ".." and "/" already.
int open_beneath(int dir_fd, const std::string& name, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.mode = mode;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, dir_fd, name.c_str(), &how, sizeof how);
  if (fd < 0 && errno == ENOSYS) return ::openat(dir_fd, name.c_str(), flags, mode);
  return static_cast<int>(fd);
}

/// Makes the folders of `name` under `dir_fd` (--create-dirs).
void make_parent_dirs(int dir_fd, const std::string& name) {
  for (std::size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
    ::mkdirat(dir_fd, name.substr(0, slash).c_str(), 0755);  // EEXIST is fine; others show at open
  }
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

std::string unsafe_output_name(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.front() == '/') return "is an absolute path";
  if (name.back() == '/') return "names a folder";
  for (std::size_t start = 0; start <= name.size();) {
    std::size_t end = std::min(name.find('/', start), name.size());
    if (name.substr(start, end - start) == "..") return "has a .. component";
    start = end + 1;
  }
  return {};
}

void UrlJob::configure_handle(const CurlLibrary& lib, CURL* curl, const RunSettings& settings, curl_slist*& headers) {
  const UrlOptions& url = settings.url;
  lib.easy_reset(curl);  // keeps the connection cache: reuse survives the reset
  lib.slist_free_all(headers);
  headers = url.per_job_headers ? nullptr : header_list(lib, url.headers, url.json);
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  lib.easy_setopt(curl, CURLOPT_MAXREDIRS, url.max_redirects);
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(curl, CURLOPT_HTTP_VERSION,
                  static_cast<long>(url.http1_1 ? CURL_HTTP_VERSION_1_1 : CURL_HTTP_VERSION_2TLS));
  static const std::string default_agent = std::string("pexec/") + PEXEC_VERSION;
  lib.easy_setopt(curl, CURLOPT_USERAGENT, url.user_agent.empty() ? default_agent.c_str() : url.user_agent.c_str());
  if (headers) lib.easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (url.method == "HEAD") {
    lib.easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (url.method == "POST" && !url.has_body()) {
    lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);  // a POST with an empty body, as curl -X POST -d ''
    lib.easy_setopt(curl, CURLOPT_POSTFIELDS, "");
  } else if (url.method != "GET" && url.method != "POST") {
    lib.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, url.method.c_str());
  } else if (url.method == "GET" && url.has_body()) {
    lib.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "GET");  // a body makes curl POST otherwise
  }
  if (!url.user.empty()) lib.easy_setopt(curl, CURLOPT_USERPWD, url.user.c_str());
  if (url.insecure) {
    lib.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    lib.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!url.cacert.empty()) lib.easy_setopt(curl, CURLOPT_CAINFO, url.cacert.c_str());
  if (!url.cert.empty()) lib.easy_setopt(curl, CURLOPT_SSLCERT, url.cert.c_str());
  if (!url.key.empty()) lib.easy_setopt(curl, CURLOPT_SSLKEY, url.key.c_str());
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
  if (body->kept && !body->kept->append(std::string_view(data, n))) {
    body->write_errno = ENOSPC;  // the spill file under $TMPDIR is full
    return 0;
  }
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

UrlJob::~UrlJob() {
  if (lib_) lib_->slist_free_all(headers_);
  close_output(false);
}

bool UrlJob::open_output() {
  const UrlOptions& url = settings_.url;
  output_name_ = url.output.empty() ? output_file_name(spec_.seq, spec_.input) : spec_.url.output;
  if (std::string why = unsafe_output_name(output_name_); !why.empty()) {
    finish(JobStatus::error, "-O: '" + output_name_ + "' " + why + ": it must name a file under " + url.output_dir);
    return false;
  }
  output_dir_fd_ = ::open(url.output_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (output_dir_fd_ < 0) {
    finish(JobStatus::error, "cannot open " + url.output_dir + ": " + std::strerror(errno));
    return false;
  }
  struct stat info;
  if (url.skip_existing && ::fstatat(output_dir_fd_, output_name_.c_str(), &info, 0) == 0) {
    result_.skipped = true;
    finish(JobStatus::ok);
    return false;
  }
  if (url.create_dirs) make_parent_dirs(output_dir_fd_, output_name_);
  std::string part = part_name();
  body_.fd = open_beneath(output_dir_fd_, part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (body_.fd < 0) {
    std::string why = errno == EXDEV ? "it leads out of the folder" : std::strerror(errno);
    finish(JobStatus::error, "cannot write " + url.output_dir + "/" + part + ": " + why);
    return false;
  }
  return true;
}

std::string UrlJob::part_name() const {
  // The job's number makes it its own: two jobs saving to one name never write one file.
  return output_name_ + "." + std::to_string(spec_.seq) + ".part";
}

void UrlJob::close_output(bool keep) {
  if (body_.fd >= 0) ::close(body_.fd);
  body_.fd = -1;
  if (output_dir_fd_ < 0) return;
  std::string part = part_name();
  if (keep && ::renameat(output_dir_fd_, part.c_str(), output_dir_fd_, output_name_.c_str()) != 0) {
    body_.write_errno = errno;
  }
  if (!keep || body_.write_errno) ::unlinkat(output_dir_fd_, part.c_str(), 0);
  ::close(output_dir_fd_);
  output_dir_fd_ = -1;
}

bool UrlJob::begin(const CurlLibrary& lib, CURL* curl, CURLU* parsed) {
  lib_ = &lib;
  if (!is_url(spec_.input)) {
    finish(JobStatus::error, "not an http or https URL");
    return false;
  }
  if (CURLUcode code = lib.url_set(parsed, CURLUPART_URL, spec_.input.c_str(), 0); code != CURLUE_OK) {
    finish(JobStatus::error, std::string("not a valid URL: ") + lib.url_strerror(code));
    return false;
  }
  const UrlOptions& url = settings_.url;
  body_ = Body{};
  body_.max_bytes = url.max_bytes;
  if (url.stdout_body) body_.kept = &result_.out;
  if (!url.output_dir.empty() && !open_output()) return false;
  if (!url.data_file.empty()) {
    std::ifstream file(spec_.url.data_file, std::ios::binary);
    if (!file) {
      finish(JobStatus::error, "cannot read --data-file " + spec_.url.data_file + ": " + std::strerror(errno));
      close_output(false);
      return false;
    }
    std::ostringstream bytes;
    bytes << file.rdbuf();  // an empty file gives an empty body
    body_text_ = std::move(bytes).str();
  }
  if (url.has_body()) {
    const std::string& body = url.data ? spec_.url.data : body_text_;
    lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    lib.easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  }
  if (url.per_job_headers) {
    headers_ = header_list(lib, spec_.url.headers, url.json);
    lib.easy_setopt(curl, CURLOPT_HTTPHEADER, headers_);
  }
  error_text_[0] = '\0';
  lib.easy_setopt(curl, CURLOPT_CURLU, parsed);
  // https: wait for the first connection to say whether it multiplexes (HTTP/2, chosen in the
  // TLS handshake) rather than open one connection per transfer that starts at the same time.
  // Plain http never multiplexes here (no h2c): a transfer waiting would only wait for nothing.
  bool may_multiplex = !url.http1_1 && starts_with_ignoring_case(spec_.input, "https://");
  lib.easy_setopt(curl, CURLOPT_PIPEWAIT, may_multiplex ? 1L : 0L);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text_);
  lib.easy_setopt(curl, CURLOPT_WRITEDATA, &body_);
  lib.easy_setopt(curl, CURLOPT_PRIVATE, this);
  return true;
}

void UrlJob::end(const CurlLibrary& lib, CURL* curl, CURLcode code) {
  long http_status = 0;
  long http_version = 0;
  curl_off_t retry_after = 0;
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);
  lib.easy_getinfo(curl, CURLINFO_HTTP_VERSION, &http_version);
  lib.easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
  char* text = nullptr;
  if (lib.easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &text) == CURLE_OK && text)
    result_.content_type = text;
  else
    result_.content_type.clear();
  if (lib.easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &text) == CURLE_OK && text)
    result_.effective_url = url_for_display(text);
  result_.http_version = http_status > 0 ? http_version_name(http_version) : "";
  std::string message;
  if (code != CURLE_OK) message = error_text_[0] ? error_text_ : lib.easy_strerror(code);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  lib.easy_setopt(curl, CURLOPT_CURLU, nullptr);
  if (headers_) lib.easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);

  result_.retryable = worth_retrying(code, http_status);
  if (retry_after > 0) result_.retry_after = static_cast<double>(retry_after);
  result_.bytes = body_.bytes;
  if (http_status > 0) result_.http_status = static_cast<int>(http_status);
  bool ok = code == CURLE_OK && http_status < 400 && !body_.write_errno && !body_.too_large;
  close_output(ok);
  if (body_.write_errno) {
    std::string where =
        body_.kept ? "cannot keep the body: " + body_.kept->error()
                   : "cannot save the body in " + settings_.url.output_dir + ": " + std::strerror(body_.write_errno);
    finish(JobStatus::error, where);
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
  close_output(false);
  result_.bytes = body_.bytes;
  finish(JobStatus::killed, "stopped by pexec");
}

void UrlJob::finish(JobStatus status, std::string error) {
  result_.status = status;
  result_.error = std::move(error);
  result_.duration_s = static_cast<double>(steady_ns() - started_ns_) / 1e9;
}

}  // namespace pexec::cli
