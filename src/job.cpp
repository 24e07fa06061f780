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
  result.input = spec.input;
  result.kind = spec.kind == JobKind::url ? "url" : "shell";
  result.status = status;
  result.error = std::move(error);
  return result;
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
