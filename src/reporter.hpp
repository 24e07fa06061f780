#pragma once
/// Reporter: where finished (or cancelled, or stopped) jobs go, one call per job in the order
/// pexec reports them. Implementations: TextReporter, JsonLinesReporter.

#include "job.hpp"

namespace pexec::cli {

class Reporter {
 public:
  virtual ~Reporter() = default;
  /// Writes one job's report; false if pexec's output is gone (a closed pipe).
  virtual bool report(const JobResult& result) = 0;
};

/// Writes all of `data` to `fd`; false on an error such as EPIPE.
bool write_fully(int fd, std::string_view data);

}  // namespace pexec::cli
