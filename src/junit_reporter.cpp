#include "junit_reporter.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "input_source.hpp"
#include "pexec/detail/write_all.hpp"
#include "text_reporter.hpp"

namespace pexec::cli {

namespace {

constexpr std::size_t kStderrTail = 4096;
constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD

/// The directory of `path` ("." for a bare name).
std::string directory_of(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// An unlinked temporary file in FILE's directory, for the test cases until close().
int open_cases_file(const std::string& path) {
  int fd = ::open(directory_of(path).c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) throw InputError("--junit: cannot write in the directory of " + path + ": " + std::strerror(errno));
  return fd;
}

/// The last kStderrTail bytes of `output`, starting at a line if one starts in them.
std::string tail_of(const CapturedOutput& output) {
  std::string tail;
  output.for_each_piece([&](std::string_view piece) {
    tail.append(piece);
    if (tail.size() > 2 * kStderrTail) tail.erase(0, tail.size() - kStderrTail);
  });
  if (tail.size() > kStderrTail) {
    tail.erase(0, tail.size() - kStderrTail);
    if (std::size_t newline = tail.find('\n'); newline != std::string::npos && newline + 1 < tail.size())
      tail.erase(0, newline + 1);
  }
  return tail;
}

std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        default:
          if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            out += kReplacement;
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the first byte, then continuation bytes, no overlong
    // form, no surrogate, nothing above U+10FFFF.
    std::size_t length = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
    if (c >= 0xF5) length = 0;
    bool valid = length > 0 && i + length <= text.size();
    std::uint32_t code = valid ? c & (0xFF >> (length + 1)) : 0;
    for (std::size_t k = 1; valid && k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    valid = valid && !(length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) &&
            !(length == 4 && (code < 0x10000 || code > 0x10FFFF)) && code != 0xFFFE && code != 0xFFFF;
    if (valid) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

JunitReporter::JunitReporter(std::string path, std::optional<double> timeout)
    : Reporter(open_cases_file(path)),
      path_(std::move(path)),
      timeout_(timeout),
      started_ms_(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count()),
      started_(std::chrono::steady_clock::now()) {}

JunitReporter::~JunitReporter() { ::close(fd()); }

void JunitReporter::report(const JobResult& r) {
  ++tests_;
  const std::string& name = r.tag.empty() ? command_or_input(r) : r.tag;
  std::string xml =
      "  <testcase name=\"" + xml_escape(name) + "\" classname=\"pexec\" time=\"" + seconds(r.duration_s) + "\">";
  switch (r.status) {
    case JobStatus::ok:
      break;
    case JobStatus::cancelled:
    case JobStatus::killed:
      ++skipped_;
      xml +=
          "<skipped message=\"" + xml_escape(r.status == JobStatus::killed ? "stopped by pexec" : "cancelled") + "\"/>";
      break;
    case JobStatus::error:
      ++errors_;
      xml += "<error message=\"" + xml_escape(failure_reason(r, timeout_)) + "\" type=\"error\">" +
             xml_escape(r.error) + "</error>";
      break;
    case JobStatus::failed:
    case JobStatus::timeout: {
      ++failures_;
      std::string type = r.status == JobStatus::timeout ? "timeout" : r.signal ? "signal" : "exit";
      std::string detail = r.kind == "url" ? r.error : tail_of(r.err);
      xml += "<failure message=\"" + xml_escape(failure_reason(r, timeout_)) + "\" type=\"" + type + "\">" +
             xml_escape(detail) + "</failure>";
      break;
    }
  }
  xml += "</testcase>\n";
  put(fd(), xml);
}

int JunitReporter::close() {
  if (closed_) return 0;
  closed_ = true;
  if (int error = flush()) return error;
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  // The suite's timestamp: local ISO 8601 time without a zone, as JUnit's schema wants it.
  std::time_t start = static_cast<std::time_t>(started_ms_ / 1000);
  std::tm local{};
  localtime_r(&start, &local);
  char timestamp[32];
  std::strftime(timestamp, sizeof timestamp, "%Y-%m-%dT%H:%M:%S", &local);
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  std::string counts = "tests=\"" + std::to_string(tests_) + "\" failures=\"" + std::to_string(failures_) +
                       "\" errors=\"" + std::to_string(errors_) + "\" skipped=\"" + std::to_string(skipped_) +
                       "\" time=\"" + seconds(wall) + "\"";
  std::string head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pexec\" " + counts +
                     ">\n <testsuite name=\"pexec\" " + counts + " timestamp=\"" + timestamp + "\" hostname=\"" +
                     xml_escape(host) + "\">\n";
  std::string tail = " </testsuite>\n</testsuites>\n";

  std::string temporary = path_ + ".XXXXXX";
  int out = ::mkstemp(temporary.data());
  if (out < 0) return errno;
  bool written = detail::write_all(out, head);
  // The test cases, copied from the temporary file.
  char buffer[65536];
  off_t offset = 0;
  while (written) {
    ssize_t n = ::pread(fd(), buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      written = n == 0;
      break;
    }
    offset += n;
    written = detail::write_all(out, std::string_view(buffer, static_cast<std::size_t>(n)));
  }
  written = written && detail::write_all(out, tail) && ::fchmod(out, 0644) == 0;
  int error = written ? 0 : (errno ? errno : EIO);
  if (::close(out) != 0 && !error) error = errno;
  if (!error && ::rename(temporary.c_str(), path_.c_str()) != 0) error = errno;
  if (error) ::unlink(temporary.c_str());
  return error;
}

}  // namespace pexec::cli
