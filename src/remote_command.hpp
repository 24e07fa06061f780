#pragma once
/// remote_job_argv(): the local ssh command that runs one job on its host, under a small POSIX
/// sh wrapper that makes the job stoppable from here. ssh's stdin is the job's control channel:
/// each line pexec writes (TERM, KILL) is sent as that signal to the job's process group on the
/// host, and the end of input (pexec closed it, stopped, or died) makes the wrapper stop the job
/// itself: SIGTERM, then SIGKILL after --grace. The host needs /bin/sh and setsid only.
///
/// The job sees PARALLEL_SEQ, PARALLEL_JOBSLOT, PARALLEL_SSHLOGIN, PARALLEL_SSHHOST and the
/// --env variables, exported in the command string (sshd rarely accepts environment).

#include <string>
#include <vector>

#include "job.hpp"

namespace pexec::cli {

/// The argv of the ssh client for `spec` on `slot`'s host, run in `dir` there (made if missing;
/// "" the login's home); ssh logs its own errors to `log_path`.
std::vector<std::string> remote_job_argv(const RemoteSettings& remote, const JobSpec& spec, double grace,
                                         const std::string& dir, const std::string& log_path);

/// One ssh session running `command` on the host whose ssh argv (ending with the destination) is
/// `host_ssh`: over the master at `control_path` (a fresh login when empty), with ssh's own
/// messages in `log_path`. What every session pexec opens (jobs, CPU counts) is made of.
std::vector<std::string> ssh_session_argv(const std::vector<std::string>& host_ssh, const std::string& control_path,
                                          const std::string& log_path, std::string command);

/// `ssh -O check` for the master job slot `slot` uses: exits 0 while the master is alive. Empty
/// when the slot has no master (--no-controlmaster).
std::vector<std::string> master_check_argv(const RemoteSettings& remote, int slot);

/// The command line a remote shell runs for `job`: the wrapper with the job and the grace period.
std::string remote_shell_line(const std::string& job, double grace);

}  // namespace pexec::cli
