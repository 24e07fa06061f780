#include "job.hpp"

#include <chrono>
#include <ctime>

namespace pexec::cli {

JobResult started_result(const JobSpec& spec, const std::string& worker) {
  JobResult result = unstarted_result(spec, JobStatus::error);
  result.worker = worker;
  result.start_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return result;
}

JobResult unstarted_result(const JobSpec& spec, JobStatus status, std::string error) {
  JobResult result;
  result.seq = spec.seq;
  result.input = spec.kind == JobKind::url ? url_for_display(spec.input) : spec.input;
  result.kind = spec.kind == JobKind::url ? "url" : "shell";
  if (spec.kind == JobKind::shell) result.command = spec.command;
  result.status = status;
  result.error = std::move(error);
  result.attempts = spec.attempt;
  result.tag = spec.tag;
  return result;
}

std::string url_for_display(const std::string& url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  std::size_t authority = scheme_end + 3;
  std::size_t authority_end = url.find_first_of("/?#", authority);
  if (authority_end == std::string::npos) authority_end = url.size();
  std::size_t at = url.rfind('@', authority_end);
  if (at == std::string::npos || at < authority) return url;
  std::size_t colon = url.find(':', authority);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::string rfc3339_utc(std::int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(unix_ms % 1000));
  return text;
}

}  // namespace pexec::cli
