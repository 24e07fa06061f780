#include "json_lines_reporter.hpp"

namespace pexec::cli {

nlohmann::ordered_json JsonLinesReporter::to_object(const JobResult& r) {
  using Json = nlohmann::ordered_json;  // keys in the documented order, seq first
  auto text_or_null = [](const std::string& s) { return s.empty() ? Json() : Json(s); };
  auto value_or_null = [](const std::optional<int>& value) { return value ? Json(*value) : Json(); };
  Json object = {{"seq", r.seq}, {"kind", r.kind}, {"input", r.input}};
  if (r.kind == "url") {
    object.update(Json{{"url", r.input},
                       {"status", r.status},
                       {"http_status", value_or_null(r.http_status)},
                       {"bytes", r.bytes},
                       {"content_type", text_or_null(r.content_type)},
                       {"effective_url", text_or_null(r.effective_url)}});
  } else {
    object.update(Json{{"command", r.command},
                       {"status", r.status},
                       {"exit_code", value_or_null(r.exit_code)},
                       {"signal", value_or_null(r.signal)}});
  }
  object.update(Json{{"start", r.start_ms ? Json(rfc3339_utc(r.start_ms)) : Json()},
                     {"duration_s", r.duration_s},
                     {"attempts", r.attempts},
                     {"worker", text_or_null(r.worker)},
                     {"error", text_or_null(r.error)}});
  if (!r.tag.empty()) object["tag"] = r.tag;
  if (!r.host.empty()) object["host"] = r.host;  // -S: the login the job ran on (":" here); --slurm: the node
  if (!r.step.empty()) object["step"] = r.step;  // --slurm: JOBID.STEPID
  return object;
}

void JsonLinesReporter::report(const JobResult& result) {
  // Dumped to a string first: dump() with `replace` never throws on invalid UTF-8 (deps.md §4).
  std::string line = to_object(result).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
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
