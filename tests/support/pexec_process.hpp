#pragma once
// Runs the built pexec binary as a user would: argv, stdin, and its stdout, stderr and exit
// status, with bounded waits so that a hanging pexec fails the test instead of hanging it.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

class PexecProcess {
 public:
  explicit PexecProcess(const std::vector<std::string>& args) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<std::string> argv{PEXEC_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> pointers;
    for (auto& a : argv) pointers.push_back(a.data());
    pointers.push_back(nullptr);
    if (posix_spawn(&pid_, PEXEC_BINARY, &actions, nullptr, pointers.data(), environ) != 0) {
      throw std::runtime_error("cannot start " PEXEC_BINARY);
    }
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_ = err[0];
  }
  ~PexecProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close_stdin();
    if (stdout_ >= 0) close(stdout_);
    if (stderr_ >= 0) close(stderr_);
  }

  void write_stdin(const std::string& data) {
    if (write(stdin_, data.data(), data.size()) != static_cast<ssize_t>(data.size())) throw std::runtime_error("write");
  }
  void close_stdin() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
  }
  void signal(int signal_number) { kill(pid_, signal_number); }
  /// Closes our end of pexec's stdout, as `| head` does.
  void close_stdout() {
    if (stdout_ >= 0) close(stdout_);
    stdout_ = -1;
  }
  pid_t pid() const { return pid_; }

  /// Reads until stdout holds `text` or `seconds` pass; whether it appeared.
  bool wait_for_stdout(const std::string& text, double seconds = 30) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (out.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > end || !pump(100)) return out.find(text) != std::string::npos;
    }
    return true;
  }

  /// Waits for exit (killing pexec after `seconds`); the exit code, or 128 + signal.
  int wait(double seconds = 60) {
    close_stdin();
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (pump(100)) {
      if (std::chrono::steady_clock::now() > end) {
        kill(pid_, SIGKILL);
        timed_out = true;
      }
    }
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string out, err;
  bool timed_out = false;

 private:
  // Reads what is there; false once both outputs are closed.
  bool pump(int timeout_ms) {
    std::vector<pollfd> fds;
    if (stdout_ >= 0) fds.push_back({stdout_, POLLIN, 0});
    if (stderr_ >= 0) fds.push_back({stderr_, POLLIN, 0});
    if (fds.empty()) return false;
    poll(fds.data(), fds.size(), timeout_ms);
    for (auto& p : fds) {
      if (!p.revents) continue;
      char chunk[65536];
      ssize_t n = read(p.fd, chunk, sizeof chunk);
      std::string& sink = p.fd == stdout_ ? out : err;
      if (n > 0) {
        sink.append(chunk, static_cast<std::size_t>(n));
      } else {
        close(p.fd);
        (p.fd == stdout_ ? stdout_ : stderr_) = -1;
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1;
};

struct PexecRun {
  std::string out, err;
  int status;
};

/// Runs pexec to completion with `input` on stdin.
inline PexecRun run_pexec(const std::vector<std::string>& args, const std::string& input = "") {
  PexecProcess process(args);
  if (!input.empty()) process.write_stdin(input);
  int status = process.wait();
  return {process.out, process.err, status};
}

/// The objects of a JSON lines text, one per line.
inline std::vector<nlohmann::json> parse_json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) throw std::runtime_error("JSON lines text without a final newline");
    lines.push_back(nlohmann::json::parse(text.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}
