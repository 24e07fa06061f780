#pragma once
// Starting this program again as a worker process: the way ProcessPoolExecutor starts its
// workers (and pexec its URL worker). posix_spawn of /proc/self/exe, never fork() alone, so that
// no other thread's locks or state are inherited half-way.

#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "pexec/detail/spawn.hpp"

namespace pexec::detail {

/// The fds a worker reads requests from and writes responses to.
inline constexpr int kRequestFd = 3;
inline constexpr int kResponseFd = 4;

/// A started worker: its pid, and the parent's ends of its two pipes (close-on-exec).
struct SelfWorker {
  pid_t pid = -1;
  int to_worker = -1;
  int from_worker = -1;
};

inline std::string self_exe() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw std::system_error(errno, std::generic_category(), "readlink /proc/self/exe");
  return std::string(path, static_cast<std::size_t>(n));
}

/// Starts this program with `variable`=`value` added to the environment (any inherited value of
/// `variable` dropped), stdin on /dev/null, a pipe from the parent on kRequestFd and one to it on
/// kResponseFd, no signal blocked, and default dispositions for the signals that stop a process.
inline SelfWorker spawn_self(std::string_view variable, const std::string& value) {
  int requests[2], responses[2];
  if (::pipe2(requests, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  if (::pipe2(responses, O_CLOEXEC) != 0) {
    ::close(requests[0]);
    ::close(requests[1]);
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  // Move the child's ends above the fds they are duplicated onto, so that neither dup2 can
  // clobber the other's source.
  int child_in = ::fcntl(requests[0], F_DUPFD_CLOEXEC, 10);
  int child_out = ::fcntl(responses[1], F_DUPFD_CLOEXEC, 10);
  int dup_errno = errno;
  ::close(requests[0]);
  ::close(responses[1]);
  if (child_in < 0 || child_out < 0) {
    for (int fd : {child_in, child_out, requests[1], responses[0]}) {
      if (fd >= 0) ::close(fd);
    }
    throw std::system_error(dup_errno, std::generic_category(), "fcntl F_DUPFD_CLOEXEC");
  }

  std::string prefix = std::string(variable) + "=";
  std::vector<std::string> environment;
  for (char** entry = environ; *entry; ++entry) {
    if (!std::string_view(*entry).starts_with(prefix)) environment.emplace_back(*entry);
  }
  environment.push_back(prefix + value);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);

  SpawnRequest request;
  request.argv = {self_exe()};
  request.envp = envp.data();
  request.dup2s = {{child_in, kRequestFd}, {child_out, kResponseFd}};
  request.default_signals = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  SelfWorker worker;
  int error = spawn_process(request, worker.pid);
  ::close(child_in);
  ::close(child_out);
  if (error != 0) {
    ::close(requests[1]);
    ::close(responses[0]);
    throw std::system_error(error, std::generic_category(), "posix_spawn " + request.argv[0]);
  }
  worker.to_worker = requests[1];
  worker.from_worker = responses[0];
  return worker;
}

}  // namespace pexec::detail
