#include "remote_command.hpp"

#include <cstdio>
#include <cstdlib>

#include "command_template.hpp"

namespace pexec::cli {

namespace {

/// $1: the job's command line; $2: the grace period. fd 3 keeps the control channel (dash gives
/// a background job /dev/null as stdin), fd 4 the job's stderr; the wrapper's own messages
/// ("Terminated") go nowhere. The job leads its own session and group (setsid), so a signal
/// reaches all it started. The watcher reads signal names until the channel ends, then stops
/// the job: TERM, KILL after the grace period. Nothing but the job holds ssh's stdout or
/// stderr, so the session ends when the job does.
constexpr const char* kWrapper =
    "exec 3<&0 4>&2 2>/dev/null\n"
    "setsid /bin/sh -c \"$1\" </dev/null 2>&4 3<&- 4>&- &\n"
    "j=$!\n"
    "{ while read -r s; do kill -s \"$s\" -- \"-$j\" || kill -s \"$s\" \"$j\"; done\n"
    "  kill -s TERM -- \"-$j\" || kill -s TERM \"$j\" || exit 0\n"
    "  sleep \"$2\"; kill -s KILL -- \"-$j\"\n"
    "} <&3 >/dev/null 4>&- &\n"
    "w=$!\n"
    "exec 3<&- 4>&-\n"
    "wait \"$j\"; rc=$?\n"
    "kill \"$w\"\n"
    "exit \"$rc\"\n";

}  // namespace

std::string remote_shell_line(const std::string& job, double grace) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", grace);
  return "exec sh -c " + shell_quote(kWrapper) + " pexec-job " + shell_quote(job) + " " + seconds;
}

std::vector<std::string> remote_job_argv(const RemoteSettings& remote, const JobSpec& spec, double grace,
                                         const std::string& dir, const std::string& log_path) {
  const RemoteSlot& slot = remote.slots[static_cast<std::size_t>(spec.slot) - 1];
  const RemoteHost& host = remote.hosts[static_cast<std::size_t>(slot.host)];
  // The variables first, exported by the job's shell, on the job's first line: run by
  // /bin/sh -c as a local job is, its messages read the same ("/bin/sh: 1: x: not found").
  // (Built by appending: GCC 12 at -O3 warns falsely on `"literal" + std::string&&`.)
  std::string job = "export PARALLEL_SEQ=";
  job += std::to_string(spec.seq);
  job += " PARALLEL_JOBSLOT=";
  job += std::to_string(spec.slot);
  job += " PARALLEL_SSHLOGIN=";
  job += shell_quote(host.login);
  job += " PARALLEL_SSHHOST=";
  job += shell_quote(host.host);
  for (const std::string& assignment : remote.exports) {
    std::size_t equals = assignment.find('=');
    job += ' ';
    job.append(assignment, 0, equals);
    job += '=';
    job += shell_quote(assignment.substr(equals + 1));
  }
  job += "; ";
  if (!dir.empty()) {  // on the same first line: the job's messages keep their line numbers
    job += "mkdir -p -- ";
    job += shell_quote(dir);
    job += " && cd -- ";
    job += shell_quote(dir);
    job += " || exit 1; ";
  }
  job += spec.command;

  return ssh_session_argv(host.ssh, slot.control_path, log_path, remote_shell_line(job, grace));
}

std::vector<std::string> ssh_session_argv(const std::vector<std::string>& host_ssh, const std::string& control_path,
                                          const std::string& log_path, std::string command) {
  std::vector<std::string> argv(host_ssh.begin(), host_ssh.end() - 1);  // all but the destination
  if (!control_path.empty()) argv.insert(argv.end(), {"-o", "ControlMaster=no", "-o", "ControlPath=" + control_path});
  argv.insert(argv.end(), {"-T", "-E", log_path, host_ssh.back(), "--", std::move(command)});
  return argv;
}

std::vector<std::string> master_check_argv(const RemoteSettings& remote, int slot) {
  const RemoteSlot& where = remote.slots[static_cast<std::size_t>(slot) - 1];
  if (where.control_path.empty()) return {};
  std::vector<std::string> argv = remote.hosts[static_cast<std::size_t>(where.host)].ssh;
  argv.insert(argv.end() - 1, {"-o", "ControlPath=" + where.control_path, "-O", "check"});
  return argv;
}

}  // namespace pexec::cli
