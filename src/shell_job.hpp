#pragma once
/// run_shell_job(): runs one job's command line to completion in the calling thread and
/// collects everything a reporter needs. The job leads its own process group, reads /dev/null,
/// inherits pexec's environment and only fds 0-2, and has its stdout and stderr captured whole.
/// At --timeout, or when running_jobs_stop() is raised, its whole group gets SIGTERM and, after
/// the grace period, SIGKILL.
///
/// Spawning is posix_spawn (cheap whatever pexec's size) and the child is then attached as a
/// Boost.Process v2 process with one io_context per thread, the path verified in deps.md.

#include <string>

#include "job.hpp"

namespace pexec::cli {

/// Runs `spec` as worker slot `slot` (1-based) and returns its result; never throws for a job
/// that cannot start (status error instead).
JobResult run_shell_job(const JobSpec& spec, int slot, const std::string& worker);

}  // namespace pexec::cli
