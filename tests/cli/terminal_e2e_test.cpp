// What a person watching a run sees, on a real terminal: tmux (a private server on a socket of
// the test's own, stopped by PID) runs pexec, and the test reads the screen with capture-pane.
// Also the live output modes (--line-buffer, -u, -k streaming the oldest job), the summary
// against the JSON lines report, SIGUSR1's list, colour and what never reaches a pipe.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pexec_process.hpp"
#include "shell_output.hpp"

namespace {

using Args = std::vector<std::string>;
const std::vector<std::string> kModes = {"thread", "process"};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool have(const char* program) { return shell_output(std::string("command -v ") + program).second == 0; }

/// A tmux server of the test's own, with one window running `command` under sh; its screen is
/// read with capture(). The server is stopped by its PID at the end.
class Terminal {
 public:
  Terminal(const std::string& command, int width, int height) {
    char name[] = "/tmp/pexec-tty-XXXXXX";
    REQUIRE(mkdtemp(name));
    dir_ = name;
    // The window stays open after pexec ends, and says how it ended.
    // (Ctrl-C reaches sh too: its trap lets it go on to say how pexec ended.)
    std::string script = "trap true INT; cd " + dir_ + " && " + command + "; echo \"exit $?\"; sleep 60";
    std::ofstream(dir_ + "/run.sh") << script << "\n";
    REQUIRE(tmux("new-session -d -x " + std::to_string(width) + " -y " + std::to_string(height) + " 'sh " + dir_ +
                 "/run.sh'")
                .second == 0);
    pid_ = std::stoi(tmux("display-message -p '#{pid}'").first);
  }
  ~Terminal() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50 && pid_ > 0 && ::kill(pid_, 0) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    std::filesystem::remove_all(dir_);
  }
  /// The screen's text, a line per row (trailing blanks dropped, as tmux gives them).
  std::string capture() { return tmux("capture-pane -p").first; }
  void keys(const std::string& keys) { tmux("send-keys " + keys); }
  void resize(int width, int height) {
    tmux("resize-window -x " + std::to_string(width) + " -y " + std::to_string(height));
  }
  /// Reads the screen until `wanted` holds for it, for at most `seconds`; whether it did.
  bool wait_for(const std::function<bool(const std::string&)>& wanted, double seconds = 30) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (wanted(capture())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    return wanted(capture());
  }
  bool wait_for_text(const std::string& text, double seconds = 30) {
    return wait_for([&](const std::string& screen) { return screen.find(text) != std::string::npos; }, seconds);
  }

 private:
  std::pair<std::string, int> tmux(const std::string& arguments) {
    return shell_output("tmux -S " + dir_ + "/socket " + arguments + " 2>&1");
  }
  std::string dir_;
  pid_t pid_ = -1;
};

/// The screen's last line that is not blank.
std::string last_line(const std::string& screen) {
  std::vector<std::string> lines = lines_of(screen);
  while (!lines.empty() && lines.back().find_first_not_of(' ') == std::string::npos) lines.pop_back();
  return lines.empty() ? "" : lines.back();
}

const std::regex kBar(R"((\d+)% \[[=> ]*\] (\d+)/(\d+))");

/// pexec with the environment the test wants, for a line of the terminal's shell.
std::string pexec_line(const std::string& arguments) { return "env -u NO_COLOR " PEXEC_BINARY " " + arguments; }

bool terminal_tests_can_run() {
  if (have("tmux")) return true;
  MESSAGE("skipped: tests on a terminal (tmux is not installed)");
  return false;
}

}  // namespace

TEST_CASE("--bar on a terminal: appears, advances, stays below whole output lines, and is cleared at the end") {
  if (!terminal_tests_can_run()) return;
  for (const std::string& mode : kModes) {
    CAPTURE(mode);
    Terminal terminal(pexec_line("--bar -m " + mode + " -j 2 'sleep 0.25; echo output line {}' ::: $(seq 16)"), 100,
                      40);
    std::vector<int> done_seen;
    bool ended = terminal.wait_for(
        [&](const std::string& screen) {
          std::smatch match;
          std::string bottom = last_line(screen);
          if (std::regex_search(bottom, match, kBar)) {
            CHECK(match[3] == "16");  // ::: items: the total is known from the start
            // The bar is the screen's last line, under every line of output so far.
            if (done_seen.empty() || done_seen.back() != std::stoi(match[2])) done_seen.push_back(std::stoi(match[2]));
          }
          return screen.find("exit ") != std::string::npos;
        },
        60);
    REQUIRE(ended);
    CHECK(done_seen.size() >= 2);  // it advanced while we watched
    CHECK(std::is_sorted(done_seen.begin(), done_seen.end()));
    std::string screen = terminal.capture();
    CAPTURE(screen);
    std::vector<std::string> lines = lines_of(screen);
    std::map<std::string, int> outputs;
    for (const std::string& line : lines) {
      CHECK_FALSE(std::regex_search(line, kBar));  // cleared, nothing of it left
      CHECK(line.find("ETA") == std::string::npos);
      if (line.starts_with("output")) ++outputs[line];
    }
    CHECK(outputs.size() == 16);  // each output line whole, none torn by the bar
    for (const auto& [line, count] : outputs) CHECK(std::regex_match(line, std::regex("output line \\d+")));
    CHECK(screen.find("pexec: 16 jobs in ") != std::string::npos);  // the summary, on a terminal
    CHECK(screen.find(": 16 ok\n") != std::string::npos);
    CHECK(screen.find("exit 0") != std::string::npos);
  }
}

TEST_CASE("--bar is drawn again at the new width when the terminal is resized") {
  if (!terminal_tests_can_run()) return;
  Terminal terminal(pexec_line("--bar -j 1 'sleep 0.2' ::: $(seq 100)"), 120, 20);
  std::string wide;
  REQUIRE(terminal.wait_for([&](const std::string& screen) {
    wide = last_line(screen);
    return std::regex_search(wide, kBar);
  }));
  CHECK(wide.size() > 100);  // it takes the width there is
  terminal.resize(60, 20);
  std::string narrow;
  CHECK(terminal.wait_for(
      [&](const std::string& screen) {
        narrow = last_line(screen);
        return std::regex_search(narrow, kBar) && narrow.size() < 60;
      },
      10));
  CAPTURE(narrow);
  terminal.keys("C-c");
  CHECK(terminal.wait_for_text("exit 130"));
}

TEST_CASE("Ctrl-C during a run with --bar leaves a clean screen and no job running") {
  if (!terminal_tests_can_run()) return;
  for (const std::string& mode : kModes) {
    CAPTURE(mode);
    Terminal terminal(pexec_line("--bar --line-buffer -m " + mode + " -j 2 'echo started {}; sleep 30' ::: 1 2 3"), 100,
                      20);
    REQUIRE(terminal.wait_for([](const std::string& screen) {
      return std::regex_search(last_line(screen), kBar) && screen.find("started 2") != std::string::npos;
    }));
    terminal.keys("C-c");
    REQUIRE(terminal.wait_for_text("exit 130", 20));
    std::string screen = terminal.capture();
    CAPTURE(screen);
    for (const std::string& line : lines_of(screen)) {
      CHECK_FALSE(std::regex_search(line, kBar));
      CHECK(line.find("ETA") == std::string::npos);
    }
    CHECK(screen.find("pexec: job 1 failed (killed by pexec)") != std::string::npos);
    CHECK(screen.find("3 jobs in ") != std::string::npos);
  }
}

TEST_CASE(
    "nothing of the progress line reaches a pipe unless forced, and forced it is plain lines ending at the total") {
  PexecRun piped = run_pexec({"--bar", "-k", "exit", ":::", "0", "1", "0"});
  CHECK(piped.err == "pexec: job 2 failed (exit 1): exit 1\npexec: 1 of 3 jobs failed\n");
  PexecRun status = run_pexec({"--progress", "echo", ":::", "a"});
  CHECK(status.err == "");
  CHECK(status.out == "a\n");
  for (const char* style : {"--bar", "--eta"}) {
    CAPTURE(style);
    PexecRun forced = run_pexec({style, "--force-progress", "-j", "2", "sleep 0.6; echo", ":::", "a", "b", "c"});
    CHECK(forced.status == 0);
    CHECK(forced.err.find('\r') == std::string::npos);
    CHECK(forced.err.find('\033') == std::string::npos);
    std::vector<std::string> lines = lines_of(forced.err);
    REQUIRE(lines.size() >= 2);  // a line a second, and the last one
    CHECK(lines.back().find("3/3") != std::string::npos);
    CHECK(lines.back().ends_with("ETA 0:00"));
  }
  // Standard input of unknown size: "at least", or --total-jobs.
  PexecRun unknown = run_pexec({"--eta", "--force-progress", "sleep 1.2; echo"}, "a\nb\n");
  CHECK(unknown.err.find("/2 done") != std::string::npos);
  PexecRun told = run_pexec({"--bar", "--force-progress", "--total-jobs", "5", "sleep 1.2; echo"}, "a\nb\n");
  CHECK(told.err.find("/5") != std::string::npos);
}

TEST_CASE("colour on a terminal for failed jobs, tags and the summary, never with NO_COLOR or --color never") {
  if (!have("script")) {
    MESSAGE("skipped: colour on a terminal (script(1), from bsdutils, is not installed)");
    return;
  }
  auto on_terminal = [](const std::string& environment, const std::string& options) {
    return shell_output(environment + " script -qc \"" PEXEC_BINARY " -k --tag " + options +
                        " 'echo out; exit' ::: 0 3\" /dev/null")
        .first;
  };
  std::string coloured = on_terminal("env -u NO_COLOR", "");
  CHECK(coloured.find("\033[31mpexec: job 2 failed (exit 3): echo out; exit 3\033[0m") != std::string::npos);
  CHECK(coloured.find("\033[30;42m0\033[0m\tout") != std::string::npos);
  CHECK(coloured.find("\033[32m1 ok\033[0m") != std::string::npos);
  for (const std::string& plain : {on_terminal("NO_COLOR=1", ""), on_terminal("env -u NO_COLOR", "--color never")}) {
    CHECK(plain.find('\033') == std::string::npos);
    CHECK(plain.find("pexec: job 2 failed (exit 3): echo out; exit 3") != std::string::npos);
  }
  // --color always colours a pipe too.
  CHECK(run_pexec({"--color", "always", "exit", ":::", "4"}).err.starts_with("\033[31mpexec: job 1 failed (exit 4)"));
  CHECK(run_pexec({"exit", ":::", "4"}).err == "pexec: job 1 failed (exit 4): exit 4\npexec: 1 of 1 job failed\n");
}

TEST_CASE("a usage error on a terminal adds the usage and where help is, in a pipe it is one line") {
  if (!have("script")) {
    MESSAGE("skipped: a usage error on a terminal (script(1) is not installed)");
    return;
  }
  auto [screen, status] = shell_output("script -qec \"" PEXEC_BINARY " --frobnicate\" /dev/null");
  CHECK(status == 2);
  CHECK(screen.find("pexec: unknown option --frobnicate") == 0);
  CHECK(screen.find("\nusage: pexec [OPTIONS] [COMMAND [ARG...]]") != std::string::npos);
  CHECK(screen.find("pexec --help") != std::string::npos);
  PexecRun piped = run_pexec({"--frobnicate"});
  CHECK(piped.err == "pexec: unknown option --frobnicate (see pexec --help)\n");
}

TEST_CASE("--line-buffer never splits or loses a line: 16 jobs of 4000 lines, tagged, in both modes") {
  for (const std::string& mode : kModes) {
    for (bool keep_order : {false, true}) {
      CAPTURE(mode);
      CAPTURE(keep_order);
      Args args = {"--line-buffer",
                   "--tag",
                   "-j",
                   "16",
                   "-m",
                   mode,
                   "seq -f '{} %g xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' 4000"};
      if (keep_order) args.insert(args.begin(), "-k");
      args.push_back(":::");
      for (int job = 1; job <= 16; ++job) args.push_back(std::to_string(job));
      PexecRun run = run_pexec(args);
      REQUIRE(run.status == 0);
      std::map<int, int> next;  // per job: the number its next line must have
      std::vector<int> job_order;
      const std::regex line_form(R"((\d+)\t(\d+) (\d+) x{61})");
      std::size_t count = 0;
      for (const std::string& line : lines_of(run.out)) {
        std::smatch match;
        REQUIRE_MESSAGE(std::regex_match(line, match, line_form), line);
        int job = std::stoi(match[1]);
        CHECK(std::stoi(match[2]) == job);
        CHECK(std::stoi(match[3]) == ++next[job]);  // in order, none missing
        if (job_order.empty() || job_order.back() != job) job_order.push_back(job);
        ++count;
      }
      CHECK(count == 16 * 4000);
      CHECK(run.out.back() == '\n');
      if (keep_order) CHECK(job_order.size() == 16);  // -k: one job after the other, in input order
      if (keep_order) CHECK(std::is_sorted(job_order.begin(), job_order.end()));
    }
  }
}

TEST_CASE("-u loses no byte, in both modes") {
  for (const std::string& mode : kModes) {
    CAPTURE(mode);
    Args args = {"-u", "-j", "16", "-m", mode, "head -c 200000 /dev/zero | tr '\\0' {}", ":::"};
    std::string letters = "abcdefghijklmnop";
    for (char letter : letters) args.push_back(std::string(1, letter));
    PexecRun run = run_pexec(args);
    REQUIRE(run.status == 0);
    CHECK(run.out.size() == 16 * 200000);
    std::map<char, std::size_t> counts;
    for (char c : run.out) ++counts[c];
    for (char letter : letters) CHECK(counts[letter] == 200000);
  }
}

TEST_CASE("-k --line-buffer streams the oldest running job live, the others wait their turn") {
  for (const std::string& mode : kModes) {
    CAPTURE(mode);
    PexecProcess pexec({"-k", "--line-buffer", "-j", "2", "-m", mode,
                        "if [ {} = 1 ]; then echo first-start; sleep 3; echo first-end; else echo second; fi",
                        ":::", "1", "2"});
    // Generous for slow starts (ASan workers); job 1 then still has seconds to run.
    CHECK(pexec.wait_for_stdout("first-start\n", 30));
    CHECK(pexec.out == "first-start\n");  // job 1 has not ended; job 2 is done, and waits
    CHECK(pexec.wait() == 0);
    CHECK(pexec.out == "first-start\nfirst-end\nsecond\n");
    // Without -k, every job writes as it goes.
    PexecRun free = run_pexec({"--line-buffer", "-j", "2", "-m", mode,
                               "if [ {} = 1 ]; then echo first-start; sleep 1; echo first-end; else sleep 0.3; echo "
                               "second; fi",
                               ":::", "1", "2"});
    CHECK(free.out == "first-start\nsecond\nfirst-end\n");
  }
}

TEST_CASE("live output to a closed pipe stops the run with 141, and its jobs") {
  for (const std::string& mode : kModes) {
    for (const char* live : {"--line-buffer", "-u"}) {
      CAPTURE(mode);
      CAPTURE(live);
      PexecProcess pexec({live, "-m", mode, "yes", "pexec-live-closed-marker", ":::", "1", "2"});
      REQUIRE(pexec.wait_for_stdout("pexec-live-closed-marker 1\n", 10));
      pexec.close_stdout();
      CHECK(pexec.wait(30) == 141);
      CHECK_FALSE(pexec.timed_out);
      CHECK(shell_output("pgrep -f 'pexec-live-closed-marke[r]'").second != 0);  // no job left
    }
  }
}

TEST_CASE("the summary's counts are those of the JSON lines report of the same run") {
  char name[] = "/tmp/pexec-summary-XXXXXX";
  REQUIRE(mkdtemp(name));
  std::string report = std::string(name) + "/report.jsonl";
  PexecRun run = run_pexec({"--summary", "--results", report, "-t", "1", "-j", "8", "sh", "-c", "{}", ":::", "true",
                            "true", "true", "exit 2", "exit 3", "sleep 10", "kill -9 $$"});
  std::ifstream file(report);
  std::stringstream text;
  text << file.rdbuf();
  std::map<std::string, int> statuses;
  for (const nlohmann::json& line : parse_json_lines(text.str())) ++statuses[line["status"].get<std::string>()];
  std::filesystem::remove_all(name);
  CHECK(statuses == std::map<std::string, int>{{"ok", 3}, {"failed", 3}, {"timeout", 1}});
  std::smatch match;
  std::string last = lines_of(run.err).back();
  CAPTURE(run.err);
  REQUIRE(std::regex_match(
      last, match,
      std::regex(R"(pexec: (\d+) jobs in [\d.]+s: (\d+) ok, (\d+) failed, (\d+) timed out \(failed: 4 5 6 7\))")));
  CHECK(std::stoi(match[1]) == 7);
  CHECK(std::stoi(match[2]) == statuses["ok"]);
  CHECK(std::stoi(match[3]) == statuses["failed"]);
  CHECK(std::stoi(match[4]) == statuses["timeout"]);
  CHECK(run.err.find("jobs failed") == std::string::npos);  // the summary says it instead
}

TEST_CASE("SIGUSR1 lists the running jobs and the run goes on, in both modes") {
  for (const std::string& mode : kModes) {
    CAPTURE(mode);
    PexecProcess pexec({"-m", mode, "-j", "2", "sleep", ":::", "2.5", "2.6"});
    // Once both jobs run, the process workers have passed their start-up (where a signal would
    // still have its default effect) and ignore SIGUSR1.
    // Both: a slow worker (ASan) may still be starting after the other's job runs.
    auto both_run = [] {
      return shell_output("pgrep -fx 'sleep 2.5' > /dev/null && pgrep -fx 'sleep 2.6' > /dev/null").second == 0;
    };
    for (int i = 0; i < 400 && !both_run(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // As "killall -USR1 pexec" would: process workers get it too, and ignore it.
    shell_output("pkill -USR1 -x pexec -P " + std::to_string(pexec.pid()) + "; kill -USR1 " +
                 std::to_string(pexec.pid()));
    CHECK(pexec.wait() == 0);
    CAPTURE(pexec.err);
    CHECK(pexec.err.find("pexec: 2 running, 0 done, 0 failed\n") == 0);
    CHECK(std::regex_search(pexec.err, std::regex(R"(pexec:   job 1, [\d.]+s: sleep 2\.5\n)")));
    CHECK(std::regex_search(pexec.err, std::regex(R"(pexec:   job 2, [\d.]+s: sleep 2\.6\n)")));
    CHECK(pexec.out == "");
  }
}
