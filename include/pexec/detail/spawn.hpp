#pragma once
// spawn_process(): the one posix_spawn builder, for jobs (pexec's shell jobs) and for worker
// processes (spawn_self.hpp). Every posix_spawn_* call is checked: a set-up step that fails is
// reported as the spawn's error, never ignored.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace pexec::detail {

/// What a child gets: its argv, where its fds come from, its process group and signal state.
struct SpawnRequest {
  std::vector<std::string> argv;
  bool search_path = false;                // posix_spawnp: look argv[0] up in PATH
  char* const* envp = nullptr;             // nullptr: this process's environment
  std::vector<std::pair<int, int>> dup2s;  // {from, onto}, in order
  bool stdin_from_dev_null = true;
  bool close_other_fds = false;      // everything from fd 3 up not named in dup2s is closed
  bool new_process_group = false;    // the child leads a new group (stops reach its tree)
  std::vector<int> default_signals;  // reset to SIG_DFL; the signal mask is always cleared
  std::string working_directory;     // the child's current folder; empty: this process's
};

/// Starts the child; 0 and its pid, or the errno of the step that failed.
inline int spawn_process(const SpawnRequest& request, pid_t& pid) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  int error = posix_spawn_file_actions_init(&actions);
  if (error != 0) return error;
  error = posix_spawnattr_init(&attributes);
  if (error != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return error;
  }
  auto check = [&error](int result) {
    if (error == 0) error = result;
  };
  if (request.stdin_from_dev_null) check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0));
  int highest_kept = 2;
  for (auto [from, onto] : request.dup2s) {
    check(posix_spawn_file_actions_adddup2(&actions, from, onto));
    if (onto > highest_kept) highest_kept = onto;
  }
  if (!request.working_directory.empty())
    check(posix_spawn_file_actions_addchdir_np(&actions, request.working_directory.c_str()));
  // Whatever this process inherited without FD_CLOEXEC must not reach the child either.
  if (request.close_other_fds) check(posix_spawn_file_actions_addclosefrom_np(&actions, highest_kept + 1));
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : request.default_signals) sigaddset(&defaults, s);
  check(posix_spawnattr_setsigmask(&attributes, &none));
  check(posix_spawnattr_setsigdefault(&attributes, &defaults));
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (request.new_process_group) {
    check(posix_spawnattr_setpgroup(&attributes, 0));
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  check(posix_spawnattr_setflags(&attributes, flags));

  if (error == 0) {
    std::vector<char*> args;
    for (const std::string& arg : request.argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    char* const* envp = request.envp ? request.envp : environ;
    error = request.search_path ? ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), envp)
                                : ::posix_spawn(&pid, args[0], &actions, &attributes, args.data(), envp);
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  return error;
}

}  // namespace pexec::detail
