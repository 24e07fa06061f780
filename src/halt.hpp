#pragma once
/// Halt: when a run stops before its end because of its jobs' results, GNU parallel's
/// --halt WHEN,WHY=N|N%. -w first-exception is now,fail=1 and -w first-completed is now,done=1;
/// --let-running-finish makes -w's "now" a "soon".
///
/// The rule is passive: the engine counts the jobs that finished (not those pexec cancelled or
/// stopped, and not an attempt that is retried) and asks whether the halt is tripped.

#include <cstddef>
#include <optional>
#include <string>

#include "job.hpp"

namespace pexec::cli {

/// The jobs that finished so far, as a halt counts them.
struct HaltCounts {
  std::size_t done = 0;       // finished, whatever the outcome
  std::size_t failed = 0;     // failed, timed out or could not start
  std::size_t succeeded = 0;  // ok
};

struct Halt {
  enum class When { never, soon, now };  // soon: start nothing more; now: also stop the running
  enum class Why { fail, success, done };
  /// How many percent must have run before a percentage trips: as GNU parallel's old rule, a
  /// percentage is only judged once at least this many jobs have finished.
  static constexpr std::size_t kPercentMinimumJobs = 3;

  When when = When::never;
  Why why = Why::fail;
  std::size_t count = 1;          // N
  std::optional<double> percent;  // N%, instead of a count

  /// Parses --halt's value: never, WHEN,WHY=N, WHEN,WHY=N%, or GNU's old 0 1 2 -1 -2 N%.
  /// Throws std::invalid_argument with a one-line reason.
  static Halt parse(const std::string& text);

  /// Whether the finished jobs `counts` trip the halt.
  bool tripped(const HaltCounts& counts) const;

  /// pexec's exit status for a run this halt stopped, `trigger` being the job that tripped it
  /// and `any_failed` whether any job failed: with fail=1 or done=1 the triggering job's own
  /// status (its exit code, 128 + its signal, 1 for another failure, 0 if ok), as GNU parallel
  /// does; with success, 0; otherwise 1 if any job failed, else 0.
  int exit_status(const JobResult& trigger, bool any_failed) const;

  friend bool operator==(const Halt&, const Halt&) = default;
};

}  // namespace pexec::cli
