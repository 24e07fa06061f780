#include "job.hpp"

#include <chrono>
#include <ctime>

namespace pexec::cli {

const char* to_string(JobStatus status) {
  switch (status) {
    case JobStatus::ok:
      return "ok";
    case JobStatus::failed:
      return "failed";
    case JobStatus::timeout:
      return "timeout";
    case JobStatus::cancelled:
      return "cancelled";
    case JobStatus::killed:
      return "killed";
    case JobStatus::error:
      return "error";
  }
  return "?";
}

// The wire format between the scheduler and process-mode workers (not pexec's JSON lines).
void to_json(nlohmann::json& j, const JobSpec& spec) {
  j = {{"seq", spec.seq},         {"input", spec.input},
       {"kind", spec.kind},       {"command_template", spec.command_template},
       {"timeout", spec.timeout}, {"grace", spec.grace},
       {"url", spec.url}};
}

void from_json(const nlohmann::json& j, JobSpec& spec) {
  j.at("seq").get_to(spec.seq);
  j.at("input").get_to(spec.input);
  j.at("kind").get_to(spec.kind);
  j.at("command_template").get_to(spec.command_template);
  j.at("timeout").get_to(spec.timeout);
  j.at("grace").get_to(spec.grace);
  j.at("url").get_to(spec.url);
}

void to_json(nlohmann::json& j, const JobResult& r) {
  j = {{"seq", r.seq},
       {"input", r.input},
       {"command", r.command},
       {"kind", r.kind},
       {"status", r.status},
       {"exit_code", r.exit_code},
       {"signal", r.signal},
       {"start_ms", r.start_ms},
       {"duration_s", r.duration_s},
       {"stdout", r.out},
       {"stderr", r.err},
       {"worker", r.worker},
       {"error", r.error},
       {"http_status", r.http_status},
       {"bytes", r.bytes},
       {"content_type", r.content_type},
       {"effective_url", r.effective_url},
       {"attempts", r.attempts}};
}

void from_json(const nlohmann::json& j, JobResult& r) {
  j.at("seq").get_to(r.seq);
  j.at("input").get_to(r.input);
  j.at("command").get_to(r.command);
  j.at("kind").get_to(r.kind);
  j.at("status").get_to(r.status);
  j.at("exit_code").get_to(r.exit_code);
  j.at("signal").get_to(r.signal);
  j.at("start_ms").get_to(r.start_ms);
  j.at("duration_s").get_to(r.duration_s);
  j.at("stdout").get_to(r.out);
  j.at("stderr").get_to(r.err);
  j.at("worker").get_to(r.worker);
  j.at("error").get_to(r.error);
  j.at("http_status").get_to(r.http_status);
  j.at("bytes").get_to(r.bytes);
  j.at("content_type").get_to(r.content_type);
  j.at("effective_url").get_to(r.effective_url);
  j.at("attempts").get_to(r.attempts);
}

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
