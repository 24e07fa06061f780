#include "shell_job.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/v2/process.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <vector>

#include "command_template.hpp"
#include "stop_signal.hpp"

extern char** environ;

namespace pexec::cli {

namespace asio = boost::asio;
namespace bp2 = boost::process::v2;

namespace {

/// posix_spawn(p) of argv into a new process group, stdin /dev/null, stdout/stderr onto the
/// given pipe ends, default signal state. Returns 0 or the errno.
int spawn(const std::vector<std::string>& argv, bool search_path, int out_fd, int err_fd, pid_t& pid) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  // Whatever pexec itself inherited without FD_CLOEXEC must not reach the job either.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int error = search_path ? ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ)
                          : ::posix_spawn(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  return error;
}

/// Appends everything a pipe delivers to a string until EOF, then calls `on_closed`.
class PipeDrain {
 public:
  PipeDrain(asio::io_context& context, int fd, std::string& sink, std::function<void()> on_closed)
      : pipe_(context, fd), sink_(sink), on_closed_(std::move(on_closed)) {}
  void start() {
    pipe_.async_read_some(asio::buffer(chunk_), [this](boost::system::error_code ec, std::size_t n) {
      sink_.append(chunk_.data(), n);
      if (ec) {
        open_ = false;
        on_closed_();
        return;
      }
      start();
    });
  }
  bool open() const { return open_; }

 private:
  asio::readable_pipe pipe_;
  std::string& sink_;
  std::function<void()> on_closed_;
  std::array<char, 65536> chunk_;
  bool open_ = true;
};

std::chrono::steady_clock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

JobResult run_shell_job(const JobSpec& spec, int slot, const std::string& worker) {
  JobResult result = started_result(spec, worker);
  result.command = expand_command(spec.command_template, spec.input, spec.seq, slot);
  auto started = std::chrono::steady_clock::now();

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    result.status = JobStatus::error;
    result.error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return result;
  }
  pid_t pid = -1;
  int error = ENOENT;
  if (auto argv = split_simple_command(result.command)) error = spawn(*argv, true, out[1], err[1], pid);
  // Not found or not executable: let the shell run it, so the message and exit code (127/126)
  // are exactly what /bin/sh -c gives.
  if (error != 0) error = spawn({"/bin/sh", "-c", result.command}, false, out[1], err[1], pid);
  ::close(out[1]);
  ::close(err[1]);
  if (error != 0) {
    ::close(out[0]);
    ::close(err[0]);
    result.status = JobStatus::error;
    result.error = std::string("cannot run /bin/sh: ") + std::strerror(error);
    result.duration_s = seconds_since(started);
    return result;
  }

  thread_local asio::io_context context;  // one per spawning thread: never shared (deps.md)
  bp2::process process(context.get_executor(), pid);
  asio::steady_timer timeout_timer(context);
  asio::steady_timer grace_timer(context);
  asio::posix::stream_descriptor stop_watch(context, running_jobs_stop().fd());
  bool exited = false;
  std::optional<JobStatus> stopped_as;  // timeout or killed, once pexec starts stopping the job
  // The job is over when its leader has exited and both pipes are closed, in any order.
  std::function<void()> finish_if_done;
  PipeDrain out_drain(context, out[0], result.out, [&] { finish_if_done(); });
  PipeDrain err_drain(context, err[0], result.err, [&] { finish_if_done(); });
  finish_if_done = [&] {
    if (!exited || out_drain.open() || err_drain.open()) return;
    timeout_timer.cancel();
    grace_timer.cancel();
    stop_watch.cancel();
  };
  auto stop_group = [&](JobStatus why) {
    if (stopped_as) return;  // even after the leader exited: its group may still hold the pipes
    stopped_as = why;
    ::kill(-pid, SIGTERM);
    grace_timer.expires_after(to_duration(spec.grace));
    grace_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) ::kill(-pid, SIGKILL);
    });
  };

  process.async_wait([&](boost::system::error_code, int) {
    exited = true;
    finish_if_done();
  });
  out_drain.start();
  err_drain.start();
  if (spec.timeout) {
    timeout_timer.expires_after(to_duration(*spec.timeout));
    timeout_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) stop_group(JobStatus::timeout);
    });
  }
  stop_watch.async_wait(asio::posix::stream_descriptor::wait_read, [&](boost::system::error_code ec) {
    if (!ec) stop_group(JobStatus::killed);
  });
  context.restart();
  context.run();
  stop_watch.release();                   // the fd belongs to running_jobs_stop()
  if (stopped_as) ::kill(-pid, SIGKILL);  // stragglers that closed their output
  int status = process.native_exit_code();
  process.detach();  // already reaped: the destructor must not signal a possibly reused pid

  result.duration_s = seconds_since(started);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  if (stopped_as)
    result.status = *stopped_as;
  else
    result.status = result.exit_code == 0 ? JobStatus::ok : JobStatus::failed;
  return result;
}

}  // namespace pexec::cli
