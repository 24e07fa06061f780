#pragma once
/// The lines that show how a run goes: the progress bar (--bar), the status line (--progress,
/// --eta) and the summary at the end (--summary, or on a terminal). Passive: the engine keeps
/// the counts and says when to draw; these only make the text.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "job.hpp"

namespace pexec::cli {

enum class ProgressStyle {
  none,
  bar,     // --bar: [=====>    ] done/total, failed, rate, elapsed, ETA
  status,  // --progress, --eta: running, done, failed, rate, elapsed, ETA in words
};

/// Where a run is, as the progress line shows it.
struct ProgressCounts {
  std::size_t running = 0;
  std::size_t done = 0;              // reported, whatever the outcome
  std::size_t failed = 0;            // failed, timed out or could not start
  std::size_t read = 0;              // jobs read so far (the total once the input has ended)
  std::optional<std::size_t> total;  // known in advance (--total-jobs, ::: items, files)
  bool input_ended = false;
  double elapsed_s = 0;
};

/// The progress line in `style`, at most `width` columns (colour escapes aside).
std::string progress_line(ProgressStyle style, const ProgressCounts& counts, int width, bool colour);

/// How the jobs of a run ended, for the summary.
struct RunTally {
  std::size_t jobs = 0;  // read, not counting those --resume skipped
  std::size_t ok = 0, failed = 0, error = 0, timeout = 0, killed = 0, cancelled = 0;
  std::vector<std::uint64_t> failed_seqs;  // of failed, error and timeout jobs, the first kMostSeqsShown + 1
  static constexpr std::size_t kMostSeqsShown = 10;
  /// Counts a job's outcome.
  void count(JobStatus status, std::uint64_t seq);
};

/// "pexec: 100 jobs in 12.3s: 97 ok, 2 failed (jobs 4 17), 1 timed out" (counts that are 0
/// left out but ok), with a newline.
std::string summary_line(const RunTally& tally, double elapsed_s, bool colour);

/// Seconds as 0:05, 12:34 or 1:02:03.
std::string clock_time(double seconds);

}  // namespace pexec::cli
