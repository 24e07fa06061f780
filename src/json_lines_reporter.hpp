#pragma once
/// JsonLinesReporter: --format jsonl. stdout carries exactly one JSON object per job and
/// nothing else; invalid UTF-8 in any string becomes U+FFFD, so every line parses whatever the
/// jobs print. Jobs' output is inside the objects, never on pexec's own stdout or stderr.

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "reporter.hpp"

namespace pexec::cli {

class JsonLinesReporter final : public Reporter {
 public:
  /// Writes to `fd`: stdout (--format jsonl) or a file (--jsonl-file).
  explicit JsonLinesReporter(int fd = STDOUT_FILENO) : Reporter(fd) {}
  void report(const JobResult& result) override;

  /// The object for one job (the fields documented in pexec(1)).
  static nlohmann::ordered_json to_object(const JobResult& result);
};

}  // namespace pexec::cli
