#pragma once
/// TextReporter: the default output. Each job's stdout goes to pexec's stdout and its stderr to
/// pexec's stderr, each as one block when the job is reported, byte for byte (with --tag, every
/// line is prefixed with the item and a TAB). A job that did not succeed adds one line on stderr:
/// "pexec: job SEQ failed (REASON): COMMAND". A URL job is one line on stdout,
/// "STATUS BYTES SECONDS URL" ("---" for the status of a job --skip-existing skipped), plus the
/// failure line on stderr if it did not succeed; with --stdout-body, its body instead of that
/// line, as a shell job's output.

#include <unistd.h>

#include <optional>

#include "reporter.hpp"

namespace pexec::cli {

class TextReporter final : public Reporter {
 public:
  /// `timeout` is --timeout, named in the failure line of a job that ran out of time.
  /// `colour_stdout`, `colour_stderr` (--color): tags there in colour, and failure lines on stderr.
  /// `url_bodies` (--stdout-body): a URL job's body is its output.
  TextReporter(bool tag, std::optional<double> timeout, bool colour_stdout = false, bool colour_stderr = false,
               bool url_bodies = false);
  void report(const JobResult& result) override;

 private:
  /// "pexec: job SEQ failed (REASON[, N attempts]): WHAT"
  std::string failure_line(const JobResult& result, const std::string& what) const;

  /// The job's stdout and stderr (a URL job's body), with --tag's prefixes.
  void put_outputs(const JobResult& result);

  bool tag_;
  std::optional<double> timeout_;
  bool url_bodies_;
  bool color_[3] = {false, false, false};  // by fd: whether tags written there are coloured
};

/// Why a job did not succeed, as the failure line says it: "exit 2", "signal SIGKILL",
/// "timeout after 1.5s" (`timeout` being --timeout), ...
std::string failure_reason(const JobResult& result, std::optional<double> timeout);

/// What --tag puts before each line of job `seq`: its tag and a TAB; in colour, black on a
/// background colour that changes from job to job, as GNU parallel's --ctag.
std::string tag_prefix(const std::string& tag, std::uint64_t seq, bool colour);

/// Prefixes every line of `text` (including an unterminated last one) with `prefix`.
std::string prefix_lines(std::string_view text, std::string_view prefix);

/// prefix_lines() for a text that arrives in pieces: each line gets its prefix once.
class LinePrefixer {
 public:
  explicit LinePrefixer(std::string prefix) : prefix_(std::move(prefix)) {}
  void feed(std::string_view piece, std::string& out);

 private:
  std::string prefix_;
  bool line_start_ = true;
};

}  // namespace pexec::cli
