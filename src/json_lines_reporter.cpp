#include "json_lines_reporter.hpp"

namespace pexec::cli {

nlohmann::json JsonLinesReporter::to_object(const JobResult& r) {
  auto text_or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  nlohmann::json object = {{"seq", r.seq},
                           {"input", r.input},
                           {"kind", r.kind},
                           {"status", r.status},
                           {"start", r.start_ms ? nlohmann::json(rfc3339_utc(r.start_ms)) : nlohmann::json()},
                           {"duration_s", r.duration_s},
                           {"worker", text_or_null(r.worker)},
                           {"error", text_or_null(r.error)},
                           {"attempts", r.attempts}};
  if (!r.tag.empty()) object["tag"] = r.tag;
  if (r.kind == "url") {
    object.update({{"url", r.input},
                   {"http_status", r.http_status},
                   {"bytes", r.bytes},
                   {"content_type", text_or_null(r.content_type)},
                   {"effective_url", text_or_null(r.effective_url)}});
  } else {
    object.update({{"command", r.command}, {"exit_code", r.exit_code}, {"signal", r.signal}});
  }
  return object;
}

void JsonLinesReporter::report(const JobResult& result) {
  // Dumped to a string first: dump() with `replace` never throws on invalid UTF-8 (deps.md §4).
  std::string line = to_object(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (result.kind == "url") {
    put(fd(), line + "\n");
    return;
  }
  // A shell job's outputs come last, streamed from where they are kept (memory or a spill
  // file) and escaped piece by piece: a job that printed gigabytes is never in memory whole.
  line.pop_back();  // the closing brace
  for (auto [key, output] : {std::pair{",\"stdout\":\"", &result.out}, std::pair{"\",\"stderr\":\"", &result.err}}) {
    line += key;
    put(fd(), line);
    line.clear();
    JsonStringEscaper escaper;
    put_output(fd(), *output, [&](std::string_view piece, std::string& out) { escaper.feed(piece, out); });
    escaper.finish(line);
  }
  line += "\"}\n";
  put(fd(), line);
}

}  // namespace pexec::cli
