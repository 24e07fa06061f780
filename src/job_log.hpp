#pragma once
/// The joblog (--joblog FILE): one line per run of a job in GNU parallel's format, so that tools
/// written for GNU parallel's joblog read pexec's, and --resume can pick up where a run stopped.
///
///   Seq  Host  Starttime  JobRuntime  Send  Receive  Exitval  Signal  Command    (TAB separated)
///
/// Starttime is Unix time with milliseconds, JobRuntime seconds right-aligned in 10 characters
/// ("%10.3f", as GNU writes it), Host ":" (this machine), Send 0, Receive the bytes the job wrote
/// to stdout (a URL job: its body's), and newlines in Command are written as NUL bytes (GNU's
/// rule). Exitval is the exit code; -1 for a job stopped at its timeout (Signal: the signal that
/// ended it) or one that could not start. A URL job has 0 when it succeeded, else 1 (-1 at its
/// timeout). Jobs pexec cancelled or stopped (a halt, --deadline, Ctrl-C) are not written, as
/// GNU parallel does not: --resume runs them again. Each attempt of a retried job is a line.
///
/// JobLogReporter writes it, line by line as jobs are reported, straight to the file (no buffer
/// in pexec: a killed pexec loses no reported job). JobLogHistory reads one back for --resume,
/// --resume-failed and --retry-failed.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "reporter.hpp"

namespace pexec::cli {

/// The header line, as GNU parallel writes it.
inline constexpr const char* kJobLogHeader =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

/// The joblog line of one run of a job (ending in a newline).
std::string job_log_line(const JobResult& result);

class JobLogReporter final : public Reporter {
 public:
  /// Writes to `fd` (opened by the caller, for appending or fresh with the header written).
  explicit JobLogReporter(int fd) : Reporter(fd) {}
  void report(const JobResult& result) override;
  void report_retried(const JobResult& result) override { report(result); }
};

/// Opens --joblog's FILE: "+FILE" or `append` (resuming) appends, otherwise the file is made
/// anew; a new or empty file starts with the header. Throws InputError when it cannot be opened.
int open_job_log(std::string path, bool append);

/// --resume, --resume-failed, --retry-failed: which jobs of the joblog run again.
enum class Resume { none, unrecorded, unsucceeded, failed_only };

/// What an earlier run's joblog says: the last line of each sequence number.
class JobLogHistory {
 public:
  struct Entry {
    int exit_value = 0;
    int signal = 0;
    std::string command;
    bool succeeded() const { return exit_value == 0 && signal == 0; }
  };

  /// Reads `path` ("+FILE" as --joblog takes it), keeping the failed jobs' commands if
  /// `failed_commands` (--retry-failed); a file that does not exist is an empty history
  /// (nothing ran yet). Throws InputError for a line that is not a joblog line.
  static JobLogHistory read(std::string path, bool failed_commands = false);

  /// Whether job `seq` needs no run now, as `resume` says: --resume skips every job with a row,
  /// --resume-failed those whose last row succeeded, --retry-failed all but the failed ones.
  bool skips(std::uint64_t seq, Resume resume) const;
  /// The entry of `seq`, or nullptr if no run of it is recorded.
  const Entry* find(std::uint64_t seq) const;
  const std::map<std::uint64_t, Entry>& entries() const { return entries_; }

 private:
  std::map<std::uint64_t, Entry> entries_;
};

}  // namespace pexec::cli
