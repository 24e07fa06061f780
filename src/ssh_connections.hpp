#pragma once
/// SshConnections: the ssh connections of a run with -S. Before the first job it opens one ssh
/// ControlMaster per host (more when the host has more slots than one master should carry:
/// sshd's MaxSessions is 10 by default, so at most 8 sessions share a master), starting them
/// one at a time (--ssh-delay apart) and waiting for them all at once, so that a host that does
/// not answer costs one --connect-timeout, whatever the number of hosts. It asks each host its
/// CPU count once, for the hosts whose slots come from it. A host that cannot be reached is
/// dropped with one warning line carrying ssh's own reason (from the master's -E log). The
/// --basefile files go to every host before the first job (a host they cannot reach is dropped too).
///
/// The user's own ssh (--ssh) is used with ~/.ssh/config as it is; pexec only adds -o options.
/// Control sockets and logs live in a private directory under $TMPDIR, removed at the end.
/// Each master runs under a guard shell that reads a pipe from pexec: when pexec ends, even by
/// SIGKILL, the pipe closes and the guard ends the master.

#include <sys/types.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "job.hpp"
#include "ssh_login.hpp"

namespace pexec::cli {

/// What the run's ssh connections are made with (the remote options of the command line).
struct SshSettings {
  std::vector<std::string> ssh{"ssh"};  // --ssh, split into words
  double delay = 0;                     // --ssh-delay: between the starts of two connections
  bool controlmaster = true;            // --no-controlmaster: a fresh login per job
  double connect_timeout = 10;          // --connect-timeout
  std::optional<int> jobs_per_host;     // -j N: slots of a host without N/
  std::vector<std::string> exports;     // --env: NAME=value
  std::vector<std::string> basefiles;   // --basefile: sent to each host once, before its jobs
  bool cleanup = false;                 // --cleanup: basefiles removed from the hosts at the end
  std::string workdir;                  // --workdir: where the basefiles go ("" the home)
};

/// No host of -S could be reached (pexec exits 255, as ssh does).
class NoHostError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SshConnections {
 public:
  /// Makes the private directory. Throws std::runtime_error if it cannot.
  explicit SshConnections(SshSettings settings);
  SshConnections(const SshConnections&) = delete;
  SshConnections& operator=(const SshConnections&) = delete;
  /// With --cleanup, removes the basefiles from the hosts; ends every master (each guard's pipe
  /// is closed; a master still there after 2 s is killed) and removes the directory.
  ~SshConnections();

  /// Opens `logins` and returns where each job slot runs. `local_slots`: the slots of ":".
  /// Throws NoHostError, with every host's reason, when no host is left.
  RemoteSettings open(const std::vector<SshLogin>& logins, int local_slots);

 private:
  struct Master {
    pid_t guard = -1;  // the guard shell (leads its own process group, with the master)
    int pipe = -1;     // the guard's stdin: closing it ends the master
    std::string control_path, log;
  };
  /// Starts a master for `destination` (the host's ssh argv) at `control_path`.
  Master start_master(const std::vector<std::string>& host_ssh, const std::string& name);
  /// Waits until every master in `masters` is up (its socket exists) or has failed; returns,
  /// per master, the reason it failed or an empty string.
  std::vector<std::string> wait_for(const std::vector<Master*>& masters);
  /// The CPU counts of the hosts (ssh session through `control_paths[i]`, or a fresh login),
  /// asked at once; per host the count, or nothing with the reason in `reasons`.
  std::vector<std::optional<int>> ask_cpu_counts(const std::vector<std::vector<std::string>>& host_ssh,
                                                 const std::vector<std::string>& control_paths,
                                                 std::vector<std::string>& reasons);
  void end(Master& master);

  SshSettings settings_;
  std::string dir_;
  std::vector<Master> masters_;
  std::vector<std::pair<RemoteHost, std::string>> sent_basefiles_;  // each host and its first master's socket
};

/// The last line ssh wrote to its -E log (its reason for failing), or an empty string.
std::string last_log_line(const std::string& path);

}  // namespace pexec::cli
