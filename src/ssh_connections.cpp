#include "ssh_connections.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "pexec/detail/spawn.hpp"
#include "remote_command.hpp"
#include "remote_files.hpp"
#include "stop_signal.hpp"
#include "temp_dir.hpp"

namespace pexec::cli {

namespace {

using Clock = std::chrono::steady_clock;

/// Sessions one master carries: under sshd's default MaxSessions (10), with room to spare.
constexpr int kSessionsPerMaster = 8;

/// Runs "$@" (the master) until it ends or stdin (fd 3 here) reaches its end: pexec closed the
/// pipe, or pexec is gone. A background job gets /dev/null as stdin, hence fd 3. Ended that
/// way (the watcher exited 0), it removes the master's log ($1), the job slots' ssh logs (a
/// pexec killed by SIGKILL could not) and, if it is the last, the directory ($2): such a pexec
/// leaves nothing behind either. A master that failed
/// by itself keeps its log, for pexec to read the reason. The guard's own messages (dash's
/// "Terminated" for the watcher) go nowhere: the master logs to its -E file. The watcher
/// ignores SIGTERM once its read returned: the guard's kill, meant for a watcher still waiting,
/// could otherwise reach it before it exits and skip the clean-up (seen under a loaded CI: a
/// master's log left after pexec got SIGKILL).
constexpr const char* kGuard =
    "exec 3<&0 2>/dev/null\n"
    "log=$1 dir=$2\n"
    "shift 2\n"
    "\"$@\" </dev/null &\n"
    "m=$!\n"
    "{ read -r _ <&3; trap '' TERM; kill \"$m\"; } >/dev/null 2>&1 &\n"
    "w=$!\n"
    "wait \"$m\"; rc=$?\n"
    "kill \"$w\" 2>/dev/null\n"
    "if wait \"$w\"; then rm -f \"$log\" \"$dir\"/slot-*.log; rmdir \"$dir\" 2>/dev/null; fi\n"
    "exit \"$rc\"\n";

/// How a host's CPU count is asked: nproc where there is one, else getconf, else 1.
constexpr const char* kCpuCount = "nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1";

bool is_socket(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
}

std::string exit_reason(int status) {
  if (WIFSIGNALED(status)) return "ssh was killed by signal " + std::to_string(WTERMSIG(status));
  return "ssh exited with status " + std::to_string(WEXITSTATUS(status));
}

/// The name of host `host`'s master number `master` (its socket's and its log's): short, for
/// the 108 bytes of a socket's path. Appended: GCC 12 at -O3 warns falsely on "h" + to_string().
std::string master_name(std::size_t host, int master) {
  std::string name = "h";
  name += std::to_string(host);
  name += 'm';
  name += std::to_string(master);
  return name;
}

std::string seconds_text(double seconds) { return std::to_string(std::max(1L, std::lround(std::ceil(seconds)))); }

}  // namespace

std::string last_log_line(const std::string& path) {
  std::ifstream log(path);
  std::string line, last;
  while (std::getline(log, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) last = line;
  }
  return last;
}

SshConnections::SshConnections(SshSettings settings) : settings_(std::move(settings)) {
  // Short: a control socket's path must fit in 108 bytes.
  std::string pattern = temp_dir() + "/pexec-ssh-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    throw std::runtime_error("cannot make a directory for ssh's control sockets in " + pattern + ": " +
                             std::strerror(errno));
  }
  dir_ = pattern;
}

SshConnections::~SshConnections() {
  // --cleanup: the basefiles go before the connections do.
  if (settings_.cleanup && !sent_basefiles_.empty()) {
    std::vector<std::vector<std::string>> sessions;
    std::string command = cleanup_command(settings_.basefiles, remote_workdir(settings_.workdir, "", 0), false);
    for (const auto& [host, control_path] : sent_basefiles_)
      sessions.push_back(ssh_session_argv(host.ssh, control_path, "/dev/null", command));
    run_tools(sessions);
  }
  for (Master& master : masters_) {
    if (master.pipe >= 0) ::close(master.pipe);
    master.pipe = -1;
  }
  auto give_up_at = Clock::now() + std::chrono::seconds(2);
  for (Master& master : masters_) {
    while (master.guard > 0) {
      int status;
      pid_t reaped = ::waitpid(master.guard, &status, WNOHANG);
      if (reaped == master.guard || (reaped < 0 && errno != EINTR)) break;
      if (Clock::now() >= give_up_at) {
        ::kill(-master.guard, SIGKILL);
        ::waitpid(master.guard, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

SshConnections::Master SshConnections::start_master(const std::vector<std::string>& host_ssh, const std::string& name) {
  Master master;
  master.control_path = dir_ + "/" + name;
  master.log = dir_ + "/" + name + ".log";
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return master;
  detail::SpawnRequest request;
  request.argv = {"/bin/sh", "-c", kGuard, "pexec-ssh-master", master.log, dir_};
  request.argv.insert(request.argv.end(), host_ssh.begin(), host_ssh.end() - 1);
  request.argv.insert(request.argv.end(), {"-o", "ControlMaster=yes", "-o", "ControlPath=" + master.control_path, "-o",
                                           "ControlPersist=no", "-N", "-E", master.log, host_ssh.back()});
  request.stdin_from_dev_null = false;
  request.dup2s = {{fds[0], STDIN_FILENO}};
  request.close_other_fds = true;
  request.new_process_group = true;  // Ctrl-C on the terminal is pexec's to handle, not the master's
  request.default_signals = kChildDefaultSignals;
  int error = detail::spawn_process(request, master.guard);
  ::close(fds[0]);
  if (error != 0) {
    ::close(fds[1]);
    master.guard = -1;
    std::ofstream(master.log) << "cannot start /bin/sh: " << std::strerror(error) << "\n";
    return master;
  }
  master.pipe = fds[1];
  return master;
}

std::vector<std::string> SshConnections::wait_for(const std::vector<Master*>& masters) {
  std::vector<std::string> reasons(masters.size());
  std::vector<bool> settled(masters.size(), false);
  // ssh's own ConnectTimeout, and a few seconds for the key exchange and the login.
  auto give_up_at = Clock::now() + std::chrono::duration<double>(settings_.connect_timeout + 5);
  while (true) {
    bool waiting = false;
    for (std::size_t i = 0; i < masters.size(); ++i) {
      if (settled[i]) continue;
      Master& master = *masters[i];
      int status = 0;
      if (master.guard < 0) {
        reasons[i] = last_log_line(master.log);
        settled[i] = true;
      } else if (is_socket(master.control_path)) {
        settled[i] = true;
      } else if (::waitpid(master.guard, &status, WNOHANG) == master.guard) {
        master.guard = -1;
        std::string line = last_log_line(master.log);
        reasons[i] = line.empty() ? exit_reason(status) : line;
        settled[i] = true;
      } else if (Clock::now() >= give_up_at) {
        reasons[i] = "no connection after " + seconds_text(settings_.connect_timeout + 5) + " s";
        end(master);
        settled[i] = true;
      } else {
        waiting = true;
      }
    }
    if (!waiting) return reasons;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void SshConnections::end(Master& master) {
  if (master.pipe >= 0) ::close(master.pipe);
  master.pipe = -1;
  if (master.guard > 0) {
    ::kill(-master.guard, SIGKILL);
    int status;
    ::waitpid(master.guard, &status, 0);
  }
  master.guard = -1;
}

std::vector<std::optional<int>> SshConnections::ask_cpu_counts(const std::vector<std::vector<std::string>>& host_ssh,
                                                               const std::vector<std::string>& control_paths,
                                                               std::vector<std::string>& reasons) {
  struct Probe {
    pid_t pid = -1;
    int out = -1;
    std::string log;
  };
  std::vector<Probe> probes(host_ssh.size());
  for (std::size_t i = 0; i < host_ssh.size(); ++i) {
    Probe& probe = probes[i];
    probe.log = dir_ + "/probe-" + std::to_string(i) + ".log";
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) continue;
    detail::SpawnRequest request;
    request.argv = ssh_session_argv(host_ssh[i], control_paths[i], probe.log, kCpuCount);
    request.search_path = true;
    request.dup2s = {{fds[1], STDOUT_FILENO}};
    request.close_other_fds = true;
    request.new_process_group = true;
    request.default_signals = kChildDefaultSignals;
    int error = detail::spawn_process(request, probe.pid);
    ::close(fds[1]);
    if (error != 0) {
      ::close(fds[0]);
      probe.pid = -1;
      reasons[i] = "cannot run " + host_ssh[i].front() + ": " + std::strerror(error);
      continue;
    }
    probe.out = fds[0];
  }
  std::vector<std::optional<int>> counts(host_ssh.size());
  for (std::size_t i = 0; i < probes.size(); ++i) {
    Probe& probe = probes[i];
    if (probe.pid < 0) continue;
    std::string text;
    char buffer[256];
    ssize_t n;
    while ((n = ::read(probe.out, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0 && text.size() < 4096) text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(probe.out);
    int status = 0;
    while (::waitpid(probe.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      int count = std::atoi(text.c_str());
      counts[i] = count > 0 ? count : 1;
    } else {
      std::string line = last_log_line(probe.log);
      reasons[i] = line.empty() ? exit_reason(status) : line;
    }
    ::unlink(probe.log.c_str());
  }
  return counts;
}

RemoteSettings SshConnections::open(const std::vector<SshLogin>& logins, int local_slots) {
  // A host's ssh command: --ssh's words, pexec's options, the port, and last the destination.
  std::vector<std::vector<std::string>> host_ssh(logins.size());
  for (std::size_t i = 0; i < logins.size(); ++i) {
    if (logins[i].local()) continue;
    std::vector<std::string>& words = host_ssh[i];
    words = settings_.ssh;
    words.insert(words.end(), {"-o", "BatchMode=yes", "-o", "ConnectTimeout=" + seconds_text(settings_.connect_timeout),
                               "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=INFO"});
    if (logins[i].port) words.insert(words.end(), {"-p", std::to_string(*logins[i].port)});
    words.push_back(logins[i].destination());
  }

  // The first master of every host, then all waited for together.
  std::vector<std::string> reasons(logins.size());
  std::vector<std::string> first_paths(logins.size());
  if (settings_.controlmaster) {
    std::vector<std::size_t> hosts;
    masters_.reserve(logins.size() * 4);
    for (std::size_t i = 0; i < logins.size(); ++i) {
      if (logins[i].local()) continue;
      if (!hosts.empty() && settings_.delay > 0)
        std::this_thread::sleep_for(std::chrono::duration<double>(settings_.delay));
      masters_.push_back(start_master(host_ssh[i], master_name(i, 0)));
      hosts.push_back(i);
    }
    std::vector<Master*> started;
    for (Master& master : masters_) started.push_back(&master);
    std::vector<std::string> failed = wait_for(started);
    for (std::size_t k = 0; k < hosts.size(); ++k) {
      reasons[hosts[k]] = failed[k];
      if (failed[k].empty()) first_paths[hosts[k]] = masters_[k].control_path;
    }
  }

  // CPU counts: asked of every reachable remote host at once (without masters, this is also
  // where a host that cannot be reached shows).
  std::vector<std::vector<std::string>> asked_ssh;
  std::vector<std::string> asked_paths;
  std::vector<std::size_t> asked;
  for (std::size_t i = 0; i < logins.size(); ++i) {
    if (logins[i].local() || !reasons[i].empty()) continue;
    bool needs_count = !logins[i].slots && !settings_.jobs_per_host;
    if (!needs_count && settings_.controlmaster) continue;  // the master proved the host is there
    asked_ssh.push_back(host_ssh[i]);
    asked_paths.push_back(first_paths[i]);
    asked.push_back(i);
  }
  std::vector<std::string> asked_reasons(asked.size());
  std::vector<std::optional<int>> counts = ask_cpu_counts(asked_ssh, asked_paths, asked_reasons);
  std::vector<int> slots(logins.size(), 0);
  for (std::size_t i = 0; i < logins.size(); ++i) {
    if (logins[i].local()) {
      slots[i] = logins[i].slots.value_or(settings_.jobs_per_host.value_or(local_slots));
    } else if (reasons[i].empty()) {
      slots[i] = logins[i].slots.value_or(settings_.jobs_per_host.value_or(1));
    }
  }
  for (std::size_t k = 0; k < asked.size(); ++k) {
    std::size_t i = asked[k];
    if (!asked_reasons[k].empty()) {
      reasons[i] = asked_reasons[k];
      slots[i] = 0;
    } else if (!logins[i].slots && !settings_.jobs_per_host) {
      slots[i] = *counts[k];
    }
  }

  // More masters where a host has more slots than one carries.
  std::vector<std::vector<std::string>> paths(logins.size());
  if (settings_.controlmaster) {
    std::vector<std::pair<std::size_t, std::size_t>> extra;  // (host, index in masters_)
    for (std::size_t i = 0; i < logins.size(); ++i) {
      if (logins[i].local() || slots[i] == 0) continue;
      paths[i].push_back(first_paths[i]);
      int wanted = (slots[i] + kSessionsPerMaster - 1) / kSessionsPerMaster;
      for (int m = 1; m < wanted; ++m) {
        if (settings_.delay > 0) std::this_thread::sleep_for(std::chrono::duration<double>(settings_.delay));
        masters_.push_back(start_master(host_ssh[i], master_name(i, m)));
        extra.emplace_back(i, masters_.size() - 1);
      }
    }
    std::vector<Master*> started;
    for (auto [host, index] : extra) started.push_back(&masters_[index]);
    std::vector<std::string> failed = wait_for(started);
    for (std::size_t k = 0; k < extra.size(); ++k) {
      if (failed[k].empty()) paths[extra[k].first].push_back(masters_[extra[k].second].control_path);
    }
    for (std::size_t i = 0; i < logins.size(); ++i) {
      if (!paths[i].empty()) slots[i] = std::min(slots[i], kSessionsPerMaster * static_cast<int>(paths[i].size()));
    }
  }

  // --basefile: to every host at once, before any job; a host it cannot reach is dropped.
  if (!settings_.basefiles.empty()) {
    std::vector<std::vector<std::string>> transfers;
    std::vector<std::pair<RemoteHost, std::string>> hosts;
    std::vector<std::size_t> sent_to;
    std::string dir = remote_workdir(settings_.workdir, "", 0);
    for (std::size_t i = 0; i < logins.size(); ++i) {
      if (logins[i].local() || slots[i] == 0) continue;
      RemoteHost host{logins[i].text, logins[i].host, host_ssh[i]};
      std::string control_path = paths[i].empty() ? "" : paths[i].front();
      transfers.push_back(send_files_argv(host, control_path, settings_.basefiles, dir));
      hosts.emplace_back(std::move(host), control_path);
      sent_to.push_back(i);
    }
    std::vector<ToolResult> results = run_tools(transfers);
    for (std::size_t k = 0; k < sent_to.size(); ++k) {
      if (results[k].ok()) {
        sent_basefiles_.push_back(std::move(hosts[k]));
      } else {
        slots[sent_to[k]] = 0;
        reasons[sent_to[k]] = "--basefile: rsync failed: " + results[k].message;
      }
    }
  }

  RemoteSettings remote;
  remote.log_dir = dir_;
  remote.exports = settings_.exports;
  remote.cleanup = settings_.cleanup;
  char hostname[256] = "host";
  ::gethostname(hostname, sizeof hostname - 1);
  remote.run_id = hostname;
  remote.run_id += '-';
  remote.run_id += std::to_string(::getpid());
  std::vector<int> host_index(logins.size(), -1);
  std::string all_reasons;
  for (std::size_t i = 0; i < logins.size(); ++i) {
    if (slots[i] == 0) {
      std::string reason = reasons[i].empty() ? "no job slot" : reasons[i];
      std::fprintf(stderr, "pexec: warning: %s dropped: %s\n", logins[i].text.c_str(), reason.c_str());
      all_reasons += (all_reasons.empty() ? "" : "; ") + logins[i].text + ": " + reason;
      continue;
    }
    host_index[i] = static_cast<int>(remote.hosts.size());
    remote.hosts.push_back(RemoteHost{logins[i].text, logins[i].local() ? "" : logins[i].host, host_ssh[i]});
  }
  if (remote.hosts.empty()) throw NoHostError("no host of -S can be reached (" + all_reasons + ")");
  // Slots spread over the hosts in turn (1 on the first host, 2 on the second, ...), each host
  // taking no more than its own; a host's sessions spread over its masters the same way.
  std::vector<int> given(logins.size(), 0);
  for (bool placed = true; placed;) {
    placed = false;
    for (std::size_t i = 0; i < logins.size(); ++i) {
      if (host_index[i] < 0 || given[i] >= slots[i]) continue;
      RemoteSlot slot{host_index[i], ""};
      if (!paths[i].empty()) slot.control_path = paths[i][static_cast<std::size_t>(given[i]) % paths[i].size()];
      remote.slots.push_back(slot);
      ++given[i];
      placed = true;
    }
  }
  return remote;
}

}  // namespace pexec::cli
