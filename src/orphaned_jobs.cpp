#include "orphaned_jobs.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace pexec::cli {

namespace {

/// This process's children, from every thread's /proc children list (a child belongs to the
/// thread that started it, or that adopted it).
std::vector<pid_t> children() {
  std::vector<pid_t> pids;
  DIR* tasks = ::opendir("/proc/self/task");
  if (!tasks) return pids;
  while (dirent* task = ::readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    std::ifstream list(std::string("/proc/self/task/") + task->d_name + "/children");
    pid_t pid;
    while (list >> pid) pids.push_back(pid);
  }
  ::closedir(tasks);
  return pids;
}

}  // namespace

int kill_stopped_workers() {
  pid_t own_group = ::getpgid(0);
  int killed = 0;
  for (pid_t pid : children()) {
    if (::getpgid(pid) != own_group) continue;  // not a worker
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so the state follows the last ')'.
    std::size_t close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size()) continue;
    char state = line[close + 2];
    if (state == 'T' || state == 't') {
      ::kill(pid, SIGKILL);
      ++killed;
    }
  }
  return killed;
}

void adopt_orphaned_jobs() { ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int stop_orphaned_jobs() {
  pid_t own_group = ::getpgid(0);
  pid_t own_session = ::getsid(0);
  int stopped = 0;
  for (pid_t pid : children()) {
    pid_t group = ::getpgid(pid);
    if (group < 0 || group == own_group) continue;  // a worker: its owner waits for it
    // The pid stays ours (a child, alive or a zombie) until reaped below: no reuse race.
    if (group == pid && ::getsid(pid) == own_session) {
      ::kill(-pid, SIGKILL);
      ++stopped;
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      continue;
    }
    ::waitpid(pid, nullptr, WNOHANG);
  }
  return stopped;
}

}  // namespace pexec::cli
