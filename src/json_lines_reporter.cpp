#include "json_lines_reporter.hpp"

#include <algorithm>

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
                       {"http_version", text_or_null(r.http_version)},
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
  if (r.skipped) object["skipped"] = true;  // --skip-existing
  if (!r.tag.empty()) object["tag"] = r.tag;
  if (!r.host.empty()) object["host"] = r.host;  // -S: the login the job ran on (":" here); --slurm: the node
  if (!r.step.empty()) object["step"] = r.step;  // --slurm: JOBID.STEPID
  return object;
}

void JsonLinesReporter::report(const JobResult& result) {
  // Dumped to a string first: dump() with `replace` never throws on invalid UTF-8 (deps.md §4).
  std::string line = to_object(result).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  if (result.kind == "url" && !url_bodies_) {
    put(fd(), line + "\n");
    return;
  }
  line.pop_back();  // the closing brace
  put_outputs(result, line);
  line += "\"}\n";
  put(fd(), line);
}

void JsonLinesReporter::put_outputs(const JobResult& result, std::string& line) {
  // The outputs come last, streamed from where they are kept (memory or a spill file) and
  // escaped piece by piece: a job that printed gigabytes is never in memory whole.
  // `encoder` (a JsonStringEscaper, or a Base64Encoder for a body that is not text) turns the
  // bytes into the inside of the JSON string.
  auto put_string = [&](const char* key, const CapturedOutput& output, auto encoder) {
    line += key;
    put(fd(), line);
    line.clear();
    put_output(fd(), output, [&](std::string_view piece, std::string& out) { encoder.feed(piece, out); });
    encoder.finish(line);
  };
  if (result.kind != "url") {
    put_string(",\"stdout\":\"", result.out, JsonStringEscaper());
    put_string("\",\"stderr\":\"", result.err, JsonStringEscaper());
  } else if (declares_utf8_text(result.content_type)) {
    put_string(",\"body_encoding\":\"utf-8\",\"body\":\"", result.out, JsonStringEscaper());
  } else {
    put_string(",\"body_encoding\":\"base64\",\"body\":\"", result.out, Base64Encoder());
  }
}

bool declares_utf8_text(std::string_view content_type) {
  std::string type(content_type);
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
  if (std::size_t charset = type.find("charset="); charset != std::string::npos) {
    std::string name = type.substr(charset + 8, type.find(';', charset) - charset - 8);
    std::erase(name, '"');
    return name == "utf-8" || name == "utf8" || name == "us-ascii";
  }
  std::string media = type.substr(0, type.find(';'));
  return media.starts_with("text/") || media == "application/json" || media.ends_with("+json") ||
         media == "application/xml" || media.ends_with("+xml") || media == "application/javascript" ||
         media == "application/x-www-form-urlencoded";
}

namespace {
constexpr char kBase64Digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void encode_group(const unsigned char* in, std::size_t size, std::string& out) {
  unsigned bits = (unsigned{in[0]} << 16) | (size > 1 ? unsigned{in[1]} << 8 : 0) | (size > 2 ? in[2] : 0);
  out += kBase64Digits[(bits >> 18) & 63];
  out += kBase64Digits[(bits >> 12) & 63];
  out += size > 1 ? kBase64Digits[(bits >> 6) & 63] : '=';
  out += size > 2 ? kBase64Digits[bits & 63] : '=';
}
}  // namespace

void Base64Encoder::feed(std::string_view data, std::string& out) {
  auto bytes = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t i = 0;
  while (pending_size_ > 0 && pending_size_ < 3 && i < data.size()) pending_[pending_size_++] = bytes[i++];
  if (pending_size_ == 3) {
    encode_group(pending_, 3, out);
    pending_size_ = 0;
  }
  for (; i + 3 <= data.size(); i += 3) encode_group(bytes + i, 3, out);
  while (i < data.size()) pending_[pending_size_++] = bytes[i++];
}

void Base64Encoder::finish(std::string& out) {
  if (pending_size_ > 0) encode_group(pending_, pending_size_, out);
  pending_size_ = 0;
}

}  // namespace pexec::cli
