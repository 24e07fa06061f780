#include "json_lines_reporter.hpp"

#include <unistd.h>

namespace pexec::cli {

nlohmann::json JsonLinesReporter::to_object(const JobResult& r) {
  auto optional = [](const std::optional<int>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"seq", r.seq},
          {"input", r.input},
          {"command", r.command},
          {"kind", r.kind},
          {"status", r.status},
          {"exit_code", optional(r.exit_code)},
          {"signal", optional(r.signal)},
          {"start", r.start_ms ? nlohmann::json(rfc3339_utc(r.start_ms)) : nlohmann::json()},
          {"duration_s", r.duration_s},
          {"stdout", r.out},
          {"stderr", r.err},
          {"worker", r.worker.empty() ? nlohmann::json() : nlohmann::json(r.worker)},
          {"error", r.error.empty() ? nlohmann::json() : nlohmann::json(r.error)}};
}

bool JsonLinesReporter::report(const JobResult& result) {
  // Dumped to a string first: dump() with `replace` never throws on invalid UTF-8 (deps.md §4).
  std::string line = to_object(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  return write_fully(STDOUT_FILENO, line);
}

}  // namespace pexec::cli
