#pragma once
/// A job as a Slurm job step (--slurm, inside an allocation): `srun --exact -N1 -n1` runs it under
/// the same control wrapper as a remote job (srun passes its stdin to the task, so the channel
/// works unchanged: TERM/KILL lines, and the end of input stops the step's job). The wrapper
/// first writes one line on stderr, "pexec-step NODE JOBID.STEPID", so that pexec learns where
/// the step ran; StepStderr takes that line, and srun's own closing line ("srun: error: NODE:
/// task 0: Exited with exit code 3"), out of the job's stderr.

#include <string>
#include <string_view>
#include <vector>

#include "job.hpp"

namespace pexec::cli {

/// The srun command for `spec` with `cpus` CPUs per task; `grace` as for a remote job.
std::vector<std::string> slurm_step_argv(const JobSpec& spec, int cpus, double grace);

/// srun's stderr in, the job's own stderr out.
class StepStderr {
 public:
  /// Takes bytes as srun gives them; returns the job's bytes that can be passed on now (the last
  /// few hundred are held back, as they may turn out to be srun's closing line).
  std::string take(std::string_view data);
  /// At the end of the stream: the rest of the job's bytes, without srun's closing lines.
  std::string finish();
  /// Whether the wrapper ran (srun made the step); the node and JOBID.STEPID it reported.
  bool started() const { return !node_.empty(); }
  const std::string& node() const { return node_; }
  const std::string& step() const { return step_; }

 private:
  static constexpr std::size_t kHeldBack = 1024;
  bool header_done_ = false;
  std::string header_, held_, node_, step_;
};

}  // namespace pexec::cli
