#include "remote_files.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "command_template.hpp"
#include "pexec/detail/spawn.hpp"
#include "stop_signal.hpp"

namespace pexec::cli {

namespace {

/// rsync's flags: recursive, links, permissions, times, devices, paths kept (-R), compressed;
/// -s: file names reach the other side as they are (no remote shell splits them).
constexpr const char* kRsyncFlags = "-rlptDRzs";

/// One word of rsync's -e command: rsync splits that string at spaces itself, honouring single
/// quotes (a doubled quote inside stands for one), not backslashes.
std::string rsync_word(const std::string& word) {
  if (!word.empty() && word.find_first_of(" \t'\"") == std::string::npos) return word;
  std::string quoted = "'";
  for (char c : word) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  quoted += '\'';
  return quoted;
}

/// The ssh command rsync runs (-e): the host's job sessions' command, over its master.
std::string rsync_shell(const RemoteHost& host, const std::string& control_path) {
  std::vector<std::string> words(host.ssh.begin(), host.ssh.end() - 1);  // all but the destination
  if (!control_path.empty()) words.insert(words.end(), {"-o", "ControlMaster=no", "-o", "ControlPath=" + control_path});
  std::string command;
  for (const std::string& word : words) {
    if (!command.empty()) command += ' ';
    command += rsync_word(word);
  }
  return command;
}

/// `file` under `dir` on the host, as rsync -R reads it: the part after "/./" is what lands here.
std::string remote_path(const std::string& dir, const std::string& file) {
  std::string path = dir.empty() ? "." : dir;
  path += "/./";
  path += landed_path(file);
  return path;
}

}  // namespace

std::string remote_workdir(const std::string& workdir, const std::string& run_id, std::uint64_t seq) {
  if (workdir == "...") {
    // In the home itself, not in a shared parent: removing one never races another's mkdir -p.
    std::string dir = ".pexec-tmp-";
    dir += run_id;
    dir += '-';
    dir += std::to_string(seq);
    return dir;
  }
  if (workdir != ".") return workdir;
  char here[4096];
  const char* home = std::getenv("HOME");
  if (!::getcwd(here, sizeof here)) return "";
  std::string cwd = here;
  if (home && *home) {
    std::string prefix = home;
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    if (cwd == prefix) return "";
    if (cwd.starts_with(prefix + "/")) return cwd.substr(prefix.size() + 1);
  }
  return cwd;  // not under $HOME here: the same absolute path there
}

std::string landed_path(const std::string& file) {
  std::size_t marker = file.find("/./");
  std::string path = marker == std::string::npos ? file : file.substr(marker + 3);
  while (path.starts_with("./") || path.starts_with("/")) path.erase(0, path.starts_with("/") ? 1 : 2);
  return path;
}

std::string unsafe_file_reason(const std::string& file, bool returned) {
  std::string path = "/" + file + "/";
  if (path.find("/../") != std::string::npos)
    return "'" + file + "' has .. in its path (use /./ to say where the path under the folder starts)";
  if (returned && file.starts_with("/")) return "'" + file + "' is not a path under the job's folder";
  if (landed_path(file).empty()) return "'" + file + "' names no file";
  return "";
}

std::vector<std::string> send_files_argv(const RemoteHost& host, const std::string& control_path,
                                         const std::vector<std::string>& files, const std::string& dir) {
  std::vector<std::string> argv = {"rsync", kRsyncFlags, "-e", rsync_shell(host, control_path)};
  // The folder is made by the same login that receives the files.
  if (!dir.empty()) argv.push_back("--rsync-path=mkdir -p -- " + shell_quote(dir) + " && rsync");
  argv.push_back("--");
  for (const std::string& file : files) argv.push_back(file.starts_with("/") ? file : "./" + file);
  argv.push_back(host.ssh.back() + ":" + (dir.empty() ? "" : dir + "/"));
  return argv;
}

std::vector<std::string> bring_back_argv(const RemoteHost& host, const std::string& control_path,
                                         const std::vector<std::string>& files, const std::string& dir) {
  std::vector<std::string> argv = {"rsync", kRsyncFlags, "-e", rsync_shell(host, control_path), "--"};
  // The first source names the host; the others are on the same host (":path").
  for (const std::string& file : files)
    argv.push_back((argv.size() == 5 ? host.ssh.back() : "") + ":" + remote_path(dir, file));
  argv.push_back("./");
  return argv;
}

std::string cleanup_command(const std::vector<std::string>& files, const std::string& dir, bool remove_dir) {
  if (remove_dir) return "rm -rf -- " + shell_quote(dir);
  std::string command;
  if (!dir.empty()) command = "cd -- " + shell_quote(dir) + " 2>/dev/null || exit 0; ";
  std::set<std::string, std::greater<>> folders;  // deepest first
  command += "rm -f --";
  for (const std::string& file : files) {
    std::string path = landed_path(file);
    command += ' ';
    command += shell_quote(path);
    if (std::size_t slash = path.rfind('/'); slash != std::string::npos) folders.insert(path.substr(0, slash));
  }
  if (!folders.empty()) {
    command += "; rmdir -p --";
    for (const std::string& folder : folders) {
      command += ' ';
      command += shell_quote(folder);
    }
    command += " 2>/dev/null";
  }
  command += "; exit 0";
  return command;
}

std::vector<ToolResult> run_tools(const std::vector<std::vector<std::string>>& commands, int stop_fd) {
  struct Running {
    pid_t pid = -1;
    int err = -1;
    std::string text;
  };
  std::vector<ToolResult> results(commands.size());
  std::vector<Running> running(commands.size());
  int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  for (std::size_t i = 0; i < commands.size(); ++i) {
    int fds[2];
    if (null < 0 || ::pipe2(fds, O_CLOEXEC) != 0) {
      results[i].message = std::strerror(errno);
      continue;
    }
    detail::SpawnRequest request;
    request.argv = commands[i];
    request.search_path = true;
    request.dup2s = {{null, STDOUT_FILENO}, {fds[1], STDERR_FILENO}};
    request.close_other_fds = true;
    request.new_process_group = true;
    request.default_signals = kChildDefaultSignals;
    int error = detail::spawn_process(request, running[i].pid);
    ::close(fds[1]);
    if (error != 0) {
      ::close(fds[0]);
      running[i].pid = -1;
      results[i].message = "cannot run " + commands[i].front() + ": " + std::strerror(error);
      continue;
    }
    running[i].err = fds[0];
  }
  if (null >= 0) ::close(null);

  bool stopped = false;
  while (true) {
    std::vector<pollfd> fds;
    for (const Running& tool : running) {
      if (tool.err >= 0) fds.push_back({tool.err, POLLIN, 0});
    }
    if (fds.empty()) break;
    if (stop_fd >= 0 && !stopped) fds.push_back({stop_fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    for (const pollfd& p : fds) {
      if (!p.revents) continue;
      if (p.fd == stop_fd) {
        stopped = true;
        for (const Running& tool : running) {
          if (tool.pid > 0) ::kill(-tool.pid, SIGTERM);
        }
        continue;
      }
      Running& tool = *std::find_if(running.begin(), running.end(), [&](const Running& t) { return t.err == p.fd; });
      char buffer[4096];
      ssize_t n = ::read(p.fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(tool.err);
        tool.err = -1;
      } else if (tool.text.size() < 64 * 1024) {
        tool.text.append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  for (std::size_t i = 0; i < running.size(); ++i) {
    if (running[i].pid < 0) continue;
    int status = 0;
    while (::waitpid(running[i].pid, &status, 0) < 0 && errno == EINTR) {
    }
    results[i].status = stopped ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // The first line: rsync's cause ("link_stat ... failed"), then its consequences and summary.
    const std::string& text = running[i].text;
    std::size_t start = text.find_first_not_of("\r\n");
    std::string first = start == std::string::npos ? "" : text.substr(start, text.find_first_of("\r\n", start) - start);
    results[i].message = stopped ? "stopped" : first;
  }
  return results;
}

}  // namespace pexec::cli
