#pragma once
/// Reporter: where finished (or cancelled, or stopped) jobs go, one report() per job in the order
/// pexec reports them, then flush() before pexec waits for more: the reports of jobs that finish
/// together leave in one write, so a fast run costs one system call per batch, not per job.
/// Implementations: TextReporter, JsonLinesReporter.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "job.hpp"

namespace pexec::cli {

class Reporter {
 public:
  virtual ~Reporter() = default;
  /// Adds one job's report to what the next flush() writes.
  virtual void report(const JobResult& result) = 0;
  /// Writes what was reported, in order; false if pexec's stdout is gone (a closed pipe).
  bool flush();

 protected:
  /// Queues `data` for stdout or stderr, after everything queued before it (on either: with
  /// 2>&1 each job's stderr still follows its stdout). A large block is written at once instead
  /// of being copied.
  void put(int fd, std::string_view data);

 private:
  std::vector<std::pair<int, std::string>> pending_;  // runs of writes to one fd, in order
  bool stdout_closed_ = false;
};

}  // namespace pexec::cli
