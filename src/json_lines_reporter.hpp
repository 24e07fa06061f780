#pragma once
/// JsonLinesReporter: --format jsonl. stdout carries exactly one JSON object per job and
/// nothing else; invalid UTF-8 in any string becomes U+FFFD, so every line parses whatever the
/// jobs print. Jobs' output is inside the objects, never on pexec's own stdout or stderr.
/// With --stdout-body a URL job's object ends with its body: a string when the content type
/// declares text (UTF-8), else base64 with "body_encoding": "base64".

#include <unistd.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reporter.hpp"

namespace pexec::cli {

class JsonLinesReporter final : public Reporter {
 public:
  /// Writes to `fd`: stdout (--format jsonl) or a file (--jsonl-file).
  /// `url_bodies` (--stdout-body): URL jobs' objects carry the body.
  explicit JsonLinesReporter(int fd = STDOUT_FILENO, bool url_bodies = false) : Reporter(fd), url_bodies_(url_bodies) {}
  void report(const JobResult& result) override;

  /// The object for one job (the fields documented in pexec(1)).
  static nlohmann::ordered_json to_object(const JobResult& result);

 private:
  /// Streams the job's output (or a URL job's body) as the rest of the object, from `line` on.
  void put_outputs(const JobResult& result, std::string& line);

  bool url_bodies_;
};

/// Whether a body of `content_type` is text in UTF-8 (text/*, JSON, XML, ... with no charset
/// or a UTF-8 or ASCII one), to be shown as a string rather than in base64.
bool declares_utf8_text(std::string_view content_type);

/// Base64 (RFC 4648, padded) of bytes that arrive in pieces.
class Base64Encoder {
 public:
  void feed(std::string_view data, std::string& out);
  void finish(std::string& out);

 private:
  unsigned char pending_[3] = {0, 0, 0};
  std::size_t pending_size_ = 0;
};

}  // namespace pexec::cli
