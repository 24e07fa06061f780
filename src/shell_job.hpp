#pragma once
/// run_shell_job(): runs one job's command line to completion in the calling thread and
/// collects everything a reporter needs. The job leads its own process group, reads /dev/null,
/// inherits pexec's environment (with PARALLEL_SEQ and PARALLEL_JOBSLOT) and only fds 0-2, and has its stdout and
/// stderr captured (CapturedOutput: bounded memory, the rest on disk).
///
/// One poll loop per job watches its two pipes, its pidfd and running_jobs_stop(). At --timeout,
/// or when `terminate` is raised, its whole group gets SIGTERM and, after the grace period,
/// SIGKILL; `kill` sends SIGKILL at once. Once a stopped job's leader has exited, the job ends at
/// the end of its grace period even if an escaped process (setsid) still holds its pipes.
/// A job that cannot get file descriptors or a process waits until it can (or is stopped); it
/// never fails for want of them.

#include <string>

#include "job.hpp"

namespace pexec::cli {

/// Runs `spec` with the run's `settings` and returns its result; never throws for a job that
/// cannot start (status error instead).
JobResult run_shell_job(const JobSpec& spec, const RunSettings& settings, const std::string& worker);

}  // namespace pexec::cli
