#pragma once
/// LiveOutput: a shell job's output as it comes, for --line-buffer (whole lines, each tagged
/// with --tag) and -u (bytes as they arrive), written through SharedOutput so that nothing is
/// torn. With -k only the oldest job not yet reported writes live; the others keep their
/// output in the result (as in the default, grouped mode) until their turn comes, and then
/// write what they kept first. What a job wrote live is no longer in its result.

#include <string>
#include <string_view>

#include "job.hpp"
#include "text_reporter.hpp"

namespace pexec::cli {

class LiveOutput {
 public:
  LiveOutput(const LiveOutputSettings& settings, const JobSpec& spec, JobResult& result);
  /// Bytes the job wrote on `fd` (stdout or stderr).
  void take(int fd, std::string_view data);
  /// The job has ended: if it writes live, its unfinished last lines go out.
  void finish();
  /// With -k, until the job's turn comes: it must look again now and then, even when it is quiet.
  bool waiting_for_turn() { return !live(); }
  /// The errno of a write that failed (the job is then stopped), or 0.
  int write_errno() const { return write_errno_; }

 private:
  struct Stream {
    int fd;
    CapturedOutput& kept;  // the result's output: what was not written live
    std::string partial;   // --line-buffer: the start of a line not finished yet
    LinePrefixer prefixer;
  };
  /// Whether the job may write now; when its turn has just come, writes what it kept.
  bool live();
  void pass_on(Stream& stream, std::string_view data);
  void write(Stream& stream, std::string_view text);

  const LiveOutputSettings& settings_;
  const std::uint64_t seq_;
  bool live_;
  Stream streams_[2];
  int write_errno_ = 0;
};

}  // namespace pexec::cli
