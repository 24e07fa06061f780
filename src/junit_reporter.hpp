#pragma once
/// JunitReporter: --junit FILE, a JUnit XML report that CI systems (Jenkins, GitLab, GitHub
/// actions that read JUnit) show as a test run: one <testsuite> named "pexec" in <testsuites>,
/// one <testcase> per job, named by its command (a URL job: its URL; with --tagstring: the tag),
/// with its time. A failed job has a <failure> (message: exit code, signal or timeout; text: the
/// last 4 KiB of its stderr, or the error), one that could not start an <error>, and a job pexec
/// cancelled or stopped a <skipped>.
///
/// Memory stays bounded: test cases go to a temporary file as jobs are reported, and close()
/// writes FILE whole (a temporary file beside it, renamed), at the end of the run or when pexec
/// is interrupted: a reader never sees half a report.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reporter.hpp"

namespace pexec::cli {

/// `text` made safe as XML character data or an attribute value: & < > " escaped, bytes that
/// are not UTF-8 and characters XML 1.0 forbids (controls but TAB, LF, CR) become U+FFFD.
std::string xml_escape(std::string_view text);

class JunitReporter final : public Reporter {
 public:
  /// Opens the temporary file for FILE; throws InputError if FILE's directory is not writable.
  /// `timeout` is --timeout, named in a timed-out job's message.
  JunitReporter(std::string path, std::optional<double> timeout);
  ~JunitReporter() override;
  void report(const JobResult& result) override;
  /// Writes FILE whole; returns 0 or the errno that stopped it.
  int close() override;

 private:
  std::string path_;
  std::optional<double> timeout_;
  std::int64_t started_ms_;  // Unix time, for the suite's timestamp
  std::chrono::steady_clock::time_point started_;
  std::uint64_t tests_ = 0, failures_ = 0, errors_ = 0, skipped_ = 0;
  bool closed_ = false;
};

}  // namespace pexec::cli
