#include "shell_job.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include "command_template.hpp"
#include "live_output.hpp"
#include "pexec/detail/spawn.hpp"
#include "remote_command.hpp"
#include "remote_files.hpp"
#include "slurm_step.hpp"
#include "ssh_connections.hpp"
#include "stop_signal.hpp"
#include "temp_dir.hpp"

namespace pexec::cli {

namespace {

using Clock = std::chrono::steady_clock;

bool out_of_resources(int error) { return error == EMFILE || error == ENFILE || error == EAGAIN || error == ENOMEM; }

/// The job's process, its pipes' read ends and its pidfd (and, for a remote job, the write end
/// of ssh's stdin: the control channel); everything is closed on destruction.
struct Child {
  pid_t pid = -1;
  int out = -1, err = -1, pidfd = -1, control = -1;
  ~Child() {
    for (int fd : {out, err, pidfd, control}) {
      if (fd >= 0) ::close(fd);
    }
  }
};

/// pexec's environment with the job's PARALLEL_SEQ and PARALLEL_JOBSLOT (as GNU parallel sets
/// them: the values of {#} and {%}), for posix_spawn.
struct JobEnvironment {
  std::string seq, slot;
  std::vector<char*> pointers;
  explicit JobEnvironment(const JobSpec& spec)
      : seq("PARALLEL_SEQ=" + std::to_string(spec.seq)), slot("PARALLEL_JOBSLOT=" + std::to_string(spec.slot)) {
    for (char** entry = environ; *entry; ++entry) {
      std::string_view variable = *entry;
      if (variable.starts_with("PARALLEL_SEQ=") || variable.starts_with("PARALLEL_JOBSLOT=")) continue;
      pointers.push_back(*entry);
    }
    pointers.push_back(seq.data());
    pointers.push_back(slot.data());
    pointers.push_back(nullptr);
  }
};

/// Creates the pipes and starts `command` (directly when it is a simple command, else through
/// /bin/sh -c) with `environment`; or, for a remote job, `remote_argv` (ssh) with a pipe as its
/// stdin. Returns 0 or the errno of what failed.
int start(const std::string& command, const std::vector<std::string>* remote_argv, char* const* environment,
          const std::string& dir, Child& child) {
  int out[2], err[2] = {-1, -1}, control[2] = {-1, -1};  // -1: not made (closed only if made)
  if (::pipe2(out, O_CLOEXEC) != 0) return errno;
  if (::pipe2(err, O_CLOEXEC) != 0 || (remote_argv && ::pipe2(control, O_CLOEXEC) != 0)) {
    int error = errno;
    for (int fd : {out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return error;
  }
  detail::SpawnRequest request;
  request.dup2s = {{out[1], STDOUT_FILENO}, {err[1], STDERR_FILENO}};
  if (remote_argv) {
    request.dup2s.push_back({control[0], STDIN_FILENO});
    request.stdin_from_dev_null = false;
  }
  request.close_other_fds = true;
  request.envp = environment;
  request.new_process_group = true;
  request.working_directory = dir;
  request.default_signals = kChildDefaultSignals;
  int error = ENOENT;
  if (remote_argv) {
    request.argv = *remote_argv;
    request.search_path = true;
    error = detail::spawn_process(request, child.pid);
  } else if (auto argv = split_simple_command(command)) {
    request.argv = std::move(*argv);
    request.search_path = true;
    error = detail::spawn_process(request, child.pid);
  }
  // Not found or not executable: let the shell run it, so that the message and exit code
  // (127/126) are exactly what /bin/sh -c gives.
  if (error != 0 && !out_of_resources(error) && !remote_argv) {
    request.argv = {"/bin/sh", "-c", command};
    request.search_path = false;
    error = detail::spawn_process(request, child.pid);
  }
  ::close(out[1]);
  ::close(err[1]);
  if (remote_argv) ::close(control[0]);
  if (error != 0) {
    ::close(out[0]);
    ::close(err[0]);
    if (remote_argv) ::close(control[1]);
    return error;
  }
  child.out = out[0];
  child.err = err[0];
  child.control = remote_argv ? control[1] : -1;
  // Without a pidfd (out of fds) the loop polls waitpid() instead.
  child.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0));
  return 0;
}

/// Whether `ssh -O check` (`argv`) finds the master alive; true when there is no master to ask,
/// or when ssh could not be started to ask it.
bool master_alive(const std::vector<std::string>& argv) {
  if (argv.empty()) return true;
  ToolResult check = run_tools({argv}).front();
  return check.ok() || check.status == -1;
}

/// --workdir for a job that runs here: made if missing; "..." a new folder, removed after the job.
struct LocalWorkdir {
  std::string path;
  bool temporary = false;
  ~LocalWorkdir() {
    std::error_code ignored;
    if (temporary) std::filesystem::remove_all(path, ignored);
  }
  /// An empty string, or why the folder cannot be had.
  std::string make(const std::string& workdir) {
    if (workdir == "...") {
      std::string pattern = temp_dir() + "/pexec-wd-XXXXXX";
      if (!::mkdtemp(pattern.data())) return pattern + ": " + std::strerror(errno);
      path = pattern;
      temporary = true;
      return "";
    }
    std::error_code error;
    std::filesystem::create_directories(workdir, error);
    if (error) return workdir + ": " + error.message();
    path = workdir;
    return "";
  }
};

/// --transferfile: the job's files reach its host (in `dir` there) before it runs; "" or why not.
std::string send_job_files(const JobSpec& spec, const RemoteSettings& remote, const RemoteHost& host,
                           const std::string& dir, int stop_fd) {
  for (const std::string& file : spec.transfer) {
    if (std::string reason = unsafe_file_reason(file, false); !reason.empty()) return "--transferfile: " + reason;
  }
  const std::string& control_path = remote.slots[static_cast<std::size_t>(spec.slot) - 1].control_path;
  ToolResult sent = run_tools({send_files_argv(host, control_path, spec.transfer, dir)}, stop_fd).front();
  if (sent.ok()) return "";
  return "--transferfile: rsync to " + host.login + " failed: " + sent.message;
}

/// After the job: --return files come back, then --cleanup (and a "..." folder) leaves nothing
/// of the job on its host. "" or what failed.
std::string finish_job_files(const JobSpec& spec, const RunSettings& settings, const RemoteHost& host,
                             const std::string& dir, const std::string& ssh_log, int stop_fd) {
  const std::string& control_path = settings.remote.slots[static_cast<std::size_t>(spec.slot) - 1].control_path;
  std::string failure;
  if (!spec.returns.empty()) {
    for (const std::string& file : spec.returns) {
      if (std::string reason = unsafe_file_reason(file, true); !reason.empty()) failure = "--return: " + reason;
    }
    if (failure.empty()) {
      ToolResult back = run_tools({bring_back_argv(host, control_path, spec.returns, dir)}, stop_fd).front();
      if (!back.ok()) failure = "--return: rsync from " + host.login + " failed: " + back.message;
    }
  }
  bool temporary = settings.workdir == "...";
  if (settings.remote.cleanup || temporary) {
    std::vector<std::string> files = spec.transfer;
    files.insert(files.end(), spec.returns.begin(), spec.returns.end());
    std::string command = cleanup_command(files, dir, temporary);
    ToolResult removed = run_tools({ssh_session_argv(host.ssh, control_path, ssh_log, command)}, stop_fd).front();
    if (!removed.ok() && failure.empty()) {
      std::string reason = last_log_line(ssh_log);
      failure = "--cleanup on " + host.login + " failed: " + (reason.empty() ? removed.message : reason);
    }
  }
  return failure;
}

int ms_until(Clock::time_point when) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(when - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, 60'000));
}

}  // namespace

JobResult run_shell_job(const JobSpec& spec, const RunSettings& settings, const std::string& worker) {
  JobStops& stops = running_jobs_stop();
  JobResult result = started_result(spec, worker);
  if (stops.terminate.raised()) {  // handed over as pexec stopped: it never starts
    result.status = JobStatus::cancelled;
    result.start_ms = 0;
    return result;
  }
  result.command = spec.command;
  if (spec.command.find('\0') != std::string::npos) {
    result.status = JobStatus::error;
    result.error = "the item holds a NUL byte";
    return result;
  }
  JobEnvironment environment(spec);
  auto started = Clock::now();
  // -S: the job runs on a host, through ssh; its ssh writes its own errors to `ssh_log`.
  const RemoteHost* host = settings.remote.host_of(spec.slot);
  std::optional<std::vector<std::string>> remote_argv;
  std::string ssh_log, remote_dir;
  LocalWorkdir local_dir;
  if (host) {
    result.host = host->login;
    ssh_log = settings.remote.log_dir + "/slot-" + std::to_string(spec.slot) + ".log";
    int log = ::open(ssh_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);  // ssh -E appends
    if (log >= 0) ::close(log);
    remote_dir = remote_workdir(settings.workdir, settings.remote.run_id, spec.seq);
    if (!spec.transfer.empty()) {
      if (std::string failure = send_job_files(spec, settings.remote, *host, remote_dir, stops.terminate.fd());
          !failure.empty()) {
        result.status = stops.terminate.raised() ? JobStatus::cancelled : JobStatus::error;
        result.error = failure;
        // rsync failed because the host was lost: the job runs elsewhere, as after any ssh failure.
        if (!stops.terminate.raised() && !master_alive(master_check_argv(settings.remote, spec.slot))) {
          result.error = "ssh to " + host->login + ": the connection to " + host->host + " was lost";
          result.transport_failure = true;
        }
        ::unlink(ssh_log.c_str());
        return result;
      }
    }
    remote_argv = remote_job_argv(settings.remote, spec, settings.grace, remote_dir, ssh_log);
  } else {
    if (!settings.remote.slots.empty()) result.host = ":";
    if (!settings.workdir.empty()) {
      if (std::string failure = local_dir.make(settings.workdir); !failure.empty()) {
        result.status = JobStatus::error;
        result.error = "--workdir " + failure;
        return result;
      }
    }
  }
  // --slurm: the job is a step of the allocation; srun runs it in srun's own folder.
  std::optional<StepStderr> step_stderr;
  if (settings.slurm.enabled) {
    remote_argv = slurm_step_argv(spec, settings.slurm.cpus_per_task, settings.grace);
    step_stderr.emplace();
  }

  // Jobs of this process that hold fds and a process: while any runs, one that cannot start for
  // want of them waits for it to end; with none, waiting would never end.
  static std::atomic<int> running_here{0};
  Child child;
  while (int error = start(result.command, remote_argv ? &*remote_argv : nullptr, environment.pointers.data(),
                           local_dir.path, child)) {
    if (!out_of_resources(error) || running_here.load() == 0 || stops.terminate.raised()) {
      result.status = stops.terminate.raised() ? JobStatus::cancelled : JobStatus::error;
      result.error = stops.terminate.raised()
                         ? ""
                         : std::string("cannot run ") + (remote_argv ? remote_argv->front() : "/bin/sh") + ": " +
                               std::strerror(error);
      return result;
    }
    // No fd or process to be had now: others will be freed as running jobs end.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  ++running_here;
  struct Leaving {
    std::atomic<int>& count;
    ~Leaving() { --count; }
  } leaving{running_here};

  std::optional<Clock::time_point> timeout_at;
  if (settings.timeout) timeout_at = steady_after(*settings.timeout);
  std::optional<JobStatus> stopped_as;  // timeout or killed, once pexec starts stopping the job
  Clock::time_point kill_at = Clock::time_point::max();
  bool killed = false, exited = false;
  int wait_status = 0;
  std::string chunk(64 * 1024, '\0');
  std::optional<LiveOutput> live;  // --line-buffer, -u
  if (settings.output.mode != OutputMode::group) live.emplace(settings.output, spec, result);

  // A remote job or a step is stopped through its control channel: the wrapper there signals
  // the job's group. Its ssh (srun) is killed here only if it is still there 2 s after the KILL.
  const bool through_channel = remote_argv.has_value();
  Clock::time_point client_kill_at = Clock::time_point::max();
  auto tell_remote = [&](const char* line) {
    if (child.control >= 0 && ::write(child.control, line, std::strlen(line)) < 0) {
      ::close(child.control);  // the session is gone: nothing more to tell
      child.control = -1;
    }
  };
  auto stop_group = [&](JobStatus why) {
    if (stopped_as) return;  // even after the leader exited: its group may still hold the pipes
    stopped_as = why;
    if (through_channel)
      tell_remote("TERM\n");
    else
      ::kill(-child.pid, SIGTERM);
    kill_at = steady_after(settings.grace);
  };
  auto kill_group = [&] {
    killed = true;
    if (!through_channel) {
      ::kill(-child.pid, SIGKILL);
      return;
    }
    tell_remote("KILL\n");
    client_kill_at = std::min(client_kill_at, steady_after(2.0));
  };
  auto reap = [&](int flags) {
    pid_t reaped;
    do {
      reaped = ::waitpid(child.pid, &wait_status, flags);
    } while (reaped < 0 && errno == EINTR);
    if (reaped == child.pid) exited = true;
  };

  while (true) {
    bool pipes_open = child.out >= 0 || child.err >= 0;
    if (exited && !pipes_open) break;
    // A stopped job whose leader is gone ends at its grace period, even if an escaped process
    // (setsid) holds its pipes: pexec must not wait for it.
    if (stopped_as && exited && Clock::now() >= kill_at) break;

    std::vector<pollfd> fds;
    auto watch = [&](int fd) {
      if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    };
    watch(child.out);
    watch(child.err);
    if (!exited) watch(child.pidfd);
    if (!stopped_as) watch(stops.terminate.fd());
    if (!killed) watch(stops.kill.fd());
    int timeout_ms = -1;
    auto wake_at = [&](Clock::time_point when) {
      int ms = ms_until(when);
      timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
    };
    if (timeout_at && !stopped_as) wake_at(*timeout_at);
    if (stopped_as && (!killed || exited)) wake_at(kill_at);
    if (!exited && client_kill_at != Clock::time_point::max()) wake_at(client_kill_at);
    if (!exited && child.pidfd < 0) wake_at(Clock::now() + std::chrono::milliseconds(20));
    // -k with live output: a quiet job still writes what it kept as soon as its turn comes.
    if (live && live->waiting_for_turn()) wake_at(Clock::now() + std::chrono::milliseconds(100));
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;

    for (const pollfd& p : fds) {
      if (!p.revents) continue;
      if (p.fd == child.out || p.fd == child.err) {
        ssize_t n = ::read(p.fd, chunk.data(), chunk.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        bool is_err = p.fd == child.err;
        std::string_view data(chunk.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
        std::string filtered;  // --slurm: stderr without srun's lines
        if (step_stderr && is_err) {
          filtered = n > 0 ? step_stderr->take(data) : step_stderr->finish();
          data = filtered;
        }
        if (n <= 0) {
          ::close(p.fd);
          (is_err ? child.err : child.out) = -1;
          if (data.empty()) continue;
        }
        if (live) {
          live->take(is_err ? STDERR_FILENO : STDOUT_FILENO, data);
          continue;
        }
        CapturedOutput& sink = is_err ? result.err : result.out;
        // A sink that cannot keep more drops the bytes: the job still runs to its end.
        sink.append(data);
      } else if (p.fd == child.pidfd) {
        reap(0);
      } else if (p.fd == stops.terminate.fd()) {
        stop_group(JobStatus::killed);
      } else if (p.fd == stops.kill.fd()) {
        stop_group(JobStatus::killed);
        kill_group();
        if (through_channel) {  // pexec is about to exit: the channel's end stops the job there
          ::close(child.control);
          child.control = -1;
          client_kill_at = std::min(client_kill_at, steady_after(1.0));
        }
      }
    }
    if (!exited && child.pidfd < 0) reap(WNOHANG);
    if (timeout_at && !stopped_as && Clock::now() >= *timeout_at) stop_group(JobStatus::timeout);
    if (stopped_as && !killed && Clock::now() >= kill_at) kill_group();
    if (!exited && Clock::now() >= client_kill_at) ::kill(-child.pid, SIGKILL);
    // Nobody reads pexec's output any more: the job stops, as it would by SIGPIPE.
    if (live && live->write_errno()) stop_group(JobStatus::killed);
  }
  if (!exited) reap(0);
  if (stopped_as) ::kill(-child.pid, SIGKILL);  // stragglers that closed their output
  if (live) {
    live->finish();
    result.live_write_errno = live->write_errno();
  }

  result.duration_s = std::chrono::duration<double>(Clock::now() - started).count();
  if (WIFEXITED(wait_status)) result.exit_code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) result.signal = WTERMSIG(wait_status);
  if (stopped_as)
    result.status = *stopped_as;
  else
    result.status = result.exit_code == 0 ? JobStatus::ok : JobStatus::failed;
  if (step_stderr) {
    result.host = step_stderr->node();
    result.step = step_stderr->step();
    // srun could not make the step (its message is the job's stderr): the job never ran.
    if (!step_stderr->started() && !stopped_as && result.status == JobStatus::failed) {
      std::string message = result.err.to_string();
      result.status = JobStatus::error;
      result.error = message.empty() ? "srun made no job step" : message.substr(0, message.find('\n'));
    }
  }
  // ssh exits 255 for its own failures and logs why; a job's own exit 255 leaves the log empty.
  // A master that died under a session logs nothing there (OpenSSH says so at debug level
  // only): then the master is asked whether it is still alive.
  if (host && !stopped_as && result.exit_code == 255) {
    std::string reason = last_log_line(ssh_log);
    if (reason.empty() && !master_alive(master_check_argv(settings.remote, spec.slot)))
      reason = "the connection to " + host->host + " was lost";
    if (!reason.empty()) {
      result.status = JobStatus::error;
      result.error = "ssh to " + host->login + ": " + reason;
      result.transport_failure = true;
    }
  }
  if (host && !result.transport_failure && !stops.terminate.raised()) {
    std::string failure = finish_job_files(spec, settings, *host, remote_dir, ssh_log, stops.terminate.fd());
    if (!failure.empty() && result.status != JobStatus::error) {
      result.status = JobStatus::error;
      result.error = failure;
    }
  }
  if (host) ::unlink(ssh_log.c_str());
  for (const CapturedOutput* output : {&result.out, &result.err}) {
    if (!output->error().empty()) {
      result.status = JobStatus::error;
      result.error = "output lost: " + output->error();
    }
  }
  return result;
}

}  // namespace pexec::cli
