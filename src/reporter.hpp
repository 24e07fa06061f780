#pragma once
/// Reporter: where finished (or cancelled, or stopped) jobs go, one report() per job in the order
/// pexec reports them, then flush() before pexec waits for more: the reports of jobs that finish
/// together leave in one write, so a fast run costs one system call per batch, not per job.
/// Implementations: TextReporter and JsonLinesReporter (pexec's output), JobLogReporter
/// (--joblog), and JsonLinesReporter and JunitReporter writing to files (--jsonl-file, --junit).

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "job.hpp"
#include "shared_output.hpp"

namespace pexec::cli {

class Reporter {
 public:
  /// `fd` is where the reports go (stdout, or a report file); stderr may carry messages too.
  explicit Reporter(int fd) : fd_(fd) {}
  virtual ~Reporter() = default;
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;
  /// Adds one job's report to what the next flush() writes.
  virtual void report(const JobResult& result) = 0;
  /// An attempt of a job that is run again (--retries): its output is not reported, but a log
  /// of every run (the joblog) records it.
  virtual void report_retried(const JobResult&) {}
  /// The run is over (or interrupted): reports written whole only at the end are written now.
  /// Returns 0 or an errno, as flush().
  virtual int close() { return flush(); }
  /// Writes what was reported, in order. Returns 0, or the errno of the first failed write to
  /// the report's fd (EPIPE: nobody reads any more; ENOSPC: /dev/full or a full disk; ...).
  int flush();

 protected:
  /// Queues `data` for stdout or stderr, after everything queued before it (on either: with
  /// 2>&1 each job's stderr still follows its stdout). A large block is written at once instead
  /// of being copied.
  void put(int fd, std::string_view data);
  /// Queues a job's whole output, reading a spilled one back from its file piece by piece
  /// (through `transform`, if given: --tag's prefixes, JSON escapes); memory stays bounded.
  void put_output(int fd, const CapturedOutput& output,
                  const std::function<void(std::string_view piece, std::string& out)>& transform = {});

  int fd() const { return fd_; }

 private:
  /// write_all() to `fd` (through `writer` for stdout and stderr) that remembers the errno of
  /// the first failed write to the report's fd.
  void write_to(int fd, std::string_view data, SharedOutput::Writer* writer);

  const int fd_;
  std::vector<std::pair<int, std::string>> pending_;  // runs of writes to one fd, in order
  int error_ = 0;                                     // of the first failed write to fd_
};

}  // namespace pexec::cli
