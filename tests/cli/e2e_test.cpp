// End to end: the built pexec binary, run as a user runs it, in both modes; each case checks
// stdout, stderr and the exit status.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pexec_process.hpp"
#include "process_alive.hpp"
#include "shell_output.hpp"

namespace {
const std::vector<std::string> kModes{"thread", "process"};

std::map<int, std::string> status_by_seq(const std::vector<nlohmann::json>& lines) {
  std::map<int, std::string> statuses;
  for (const auto& line : lines) statuses[line["seq"].get<int>()] = line["status"].get<std::string>();
  return statuses;
}
std::vector<std::string> with_mode(const std::string& mode, std::vector<std::string> args) {
  args.insert(args.begin(), {"--mode", mode});
  return args;
}
}  // namespace

TEST_CASE("items from :::, -a files and stdin become jobs") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec(with_mode(mode, {"-k", "echo", ":::", "a", "b c"}));
    CHECK(r.status == 0);
    CHECK(r.out == "a\nb c\n");
    CHECK(r.err.empty());
    auto from_stdin = run_pexec(with_mode(mode, {"-k", "-j", "2"}), "echo one\n\necho two\n");
    CHECK(from_stdin.out == "one\ntwo\n");
    char path[] = "/tmp/pexec-e2e-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(write(fd, "x\0y z\0", 6) == 6);
    close(fd);
    auto nul = run_pexec(with_mode(mode, {"-k", "-0", "-a", path, "echo"}));
    CHECK(nul.out == "x\ny z\n");
    std::remove(path);
  }
}

TEST_CASE("completion order by default, input order with -k") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::vector<std::string> jobs{":::", "sleep 0.5; echo slow", "echo fast"};
    auto streamed = run_pexec(with_mode(mode, {"-j", "2", ":::", "sleep 0.5; echo slow", "echo fast"}));
    CHECK(streamed.out == "fast\nslow\n");
    auto ordered = run_pexec(with_mode(mode, {"-j", "2", "-k", ":::", "sleep 0.5; echo slow", "echo fast"}));
    CHECK(ordered.out == "slow\nfast\n");
  }
}

TEST_CASE("each job's output arrives whole, never interleaved with another's") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r =
        run_pexec(with_mode(mode, {"-j", "4", "for i in $(seq 2000); do echo {}; done", ":::", "A", "B", "C", "D"}));
    CHECK(r.status == 0);
    REQUIRE(r.out.size() == 4 * 2000 * 2);
    for (std::size_t block = 0; block < 4; ++block) {
      std::string part = r.out.substr(block * 4000, 4000);
      CHECK(part.find_first_not_of(std::string(1, part[0]) + "\n") == std::string::npos);
    }
  }
}

TEST_CASE("hostile items are single literal arguments") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::remove("/tmp/pexec-pwned");
    std::vector<std::string> items{"$(touch /tmp/pexec-pwned)", "a; touch /tmp/pexec-pwned", "'\"`id`\"'", "*",
                                   "--help"};
    // COMMAND words form a shell line (as in GNU parallel), so the format is quoted for it.
    std::vector<std::string> args = with_mode(mode, {"-k", "printf", "'[%s]\\n'", ":::"});
    args.insert(args.end(), items.begin(), items.end());
    auto r = run_pexec(args);
    CHECK(r.status == 0);
    std::string expected;
    for (auto& item : items) expected += "[" + item + "]\n";
    CHECK(r.out == expected);
    CHECK(access("/tmp/pexec-pwned", F_OK) != 0);
  }
}

TEST_CASE("a timeout stops the job's whole process tree") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec(with_mode(mode, {"-t", "0.3", ":::", "sh -c 'sleep 94.5 & sleep 94.5'", "echo fine"}));
    CHECK(r.status == 1);
    CHECK(r.out == "fine\n");
    CHECK(r.err ==
          "pexec: job 1 failed (timeout after 0.3s): sh -c 'sleep 94.5 & sleep 94.5'\npexec: 1 of 2 jobs failed\n");
    CHECK_FALSE(process_alive("sleep 94.5"));
  }
}

TEST_CASE("exit status: 0 when all succeed, 1 when any fails, with one line per failure") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    CHECK(run_pexec(with_mode(mode, {":::", "true", "exit 0"})).status == 0);
    auto r = run_pexec(with_mode(mode, {"-k", ":::", "true", "exit 4", "kill -KILL $$"}));
    CHECK(r.status == 1);
    CHECK(r.err ==
          "pexec: job 2 failed (exit 4): exit 4\npexec: job 3 failed (signal SIGKILL): kill -KILL $$\n"
          "pexec: 2 of 3 jobs failed\n");
  }
}

TEST_CASE("usage errors and unreadable input: exit 2, one line, no job run") {
  std::remove("/tmp/pexec-ran");
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"-j", "many", ":::", "touch /tmp/pexec-ran"},
                                             {"--timeout", "soon", ":::", "touch /tmp/pexec-ran"},
                                             {"--bogus", ":::", "touch /tmp/pexec-ran"},
                                             {"-a", "/nonexistent/jobs.txt"},
                                             {"-w", "never", ":::", "touch /tmp/pexec-ran"}}) {
    auto r = run_pexec(args);
    CAPTURE(r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err.starts_with("pexec: "));
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
  CHECK(access("/tmp/pexec-ran", F_OK) != 0);
  CHECK(run_pexec({"-a", "/nonexistent/jobs.txt"}).err ==
        "pexec: cannot read /nonexistent/jobs.txt: No such file or directory\n");
}

TEST_CASE("--return-when first-completed stops the others after the first job finishes") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec(with_mode(mode, {"-j", "3", "--format", "jsonl", "-w", "first-completed", ":::", "sleep 93.1",
                                        "sleep 0.3; echo quick", "sleep 93.1"}));
    CHECK(r.status == 0);
    auto lines = parse_json_lines(r.out);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["seq"] == 2);
    CHECK(lines[0]["stdout"] == "quick\n");
    CHECK(status_by_seq(lines) == std::map<int, std::string>{{1, "killed"}, {2, "ok"}, {3, "killed"}});
    CHECK_FALSE(process_alive("sleep 93.1"));
    auto failed_first = run_pexec(with_mode(mode, {"-w", "FIRST_COMPLETED", ":::", "exit 5", "sleep 93.2"}));
    CHECK(failed_first.status == 5);  // the first job's own status (--halt now,done=1), as GNU parallel
  }
}

TEST_CASE("--return-when first-exception stops at the first failure, like all when none fails") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec(with_mode(mode, {"-j", "2", "--format", "jsonl", "-w", "first-exception", ":::", "sleep 93.3",
                                        "sleep 0.2; exit 3", "echo never-started", "echo never-either"}));
    CHECK(r.status == 3);  // the failed job's own status (--halt now,fail=1), as GNU parallel
    auto statuses = status_by_seq(parse_json_lines(r.out));
    CHECK(statuses[1] == "killed");
    CHECK(statuses[2] == "failed");
    CHECK(statuses.size() == 4);
    CHECK_FALSE(process_alive("sleep 93.3"));
    auto clean = run_pexec(with_mode(mode, {"-k", "-w", "first-exception", ":::", "sleep 0.2; echo a", "echo b"}));
    CHECK(clean.status == 0);
    CHECK(clean.out == "a\nb\n");
  }
}

TEST_CASE("--let-running-finish waits for running jobs and cancels the rest") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec(with_mode(mode, {"-j", "2", "-k", "--format", "jsonl", "-w", "first-exception",
                                        "--let-running-finish", ":::", "sleep 0.5; echo done", "exit 1", "sleep 0.3",
                                        "sleep 0.3", "sleep 0.3", "sleep 0.3", "sleep 0.3"}));
    CHECK(r.status == 1);
    auto lines = parse_json_lines(r.out);
    REQUIRE(lines.size() == 7);
    CHECK(lines[0]["status"] == "ok");  // running when the failure came: allowed to finish
    CHECK(lines[0]["stdout"] == "done\n");
    CHECK(lines[1]["status"] == "failed");
    // The freed worker may start job 3 before pexec reacts; the jobs behind it never start.
    int cancelled = 0;
    for (std::size_t i = 2; i < lines.size(); ++i) {
      CHECK((lines[i]["status"] == "ok" || lines[i]["status"] == "cancelled"));
      cancelled += lines[i]["status"] == "cancelled";
    }
    CHECK(cancelled >= 3);
  }
}

TEST_CASE("--deadline stops the run, reports unfinished jobs and exits 124") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r =
        run_pexec(with_mode(mode, {"-j", "1", "--deadline", "2", ":::", "echo first", "sleep 93.4", "echo third"}));
    CHECK(r.status == 124);
    CHECK(r.out == "first\n");
    CHECK(r.err.find("pexec: 2 (of 3) jobs unfinished\n") != std::string::npos);
    CHECK_FALSE(process_alive("sleep 93.4"));
  }
}

TEST_CASE("JSON lines: one object per job, parseable whatever the jobs print") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec(with_mode(
        mode, {"-k", "--format", "jsonl", ":::", "printf 'bin\\377\\376 \\001 \"q\"'", "echo err >&2; exit 2"}));
    CHECK(r.status == 1);
    CHECK(r.err == "pexec: 1 of 2 jobs failed\n");  // the jobs' output is only in the objects
    auto lines = parse_json_lines(r.out);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["stdout"] == "bin\xEF\xBF\xBD\xEF\xBF\xBD \x01 \"q\"");
    CHECK(lines[0]["status"] == "ok");
    CHECK(lines[0]["kind"] == "shell");
    CHECK(lines[0]["seq"] == 1);
    CHECK(lines[0]["exit_code"] == 0);
    CHECK(lines[0]["start"].get<std::string>().ends_with("Z"));
    CHECK(lines[1]["stderr"] == "err\n");
    CHECK(lines[1]["exit_code"] == 2);
    CHECK(lines[1]["status"] == "failed");
    std::string worker = lines[0]["worker"];
    CHECK(worker.starts_with(mode == "thread" ? "ThreadPoolExecutor-" : "pid:"));
  }
}

TEST_CASE("a job starts while stdin is still open") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    PexecProcess pexec(with_mode(mode, {}));
    pexec.write_stdin("echo started\n");
    CHECK(pexec.wait_for_stdout("started\n", 30));
    pexec.write_stdin("echo second\n");
    pexec.close_stdin();
    CHECK(pexec.wait() == 0);
    CHECK(pexec.out == "started\nsecond\n");
  }
}

TEST_CASE("SIGINT and SIGTERM stop every running job and exit 130 and 143") {
  for (const auto& mode : kModes) {
    for (int signal_number : {SIGINT, SIGTERM}) {
      CAPTURE(mode);
      CAPTURE(signal_number);
      PexecProcess pexec(with_mode(mode, {"-j", "2", ":::", "echo up; sleep 92.5", "sleep 92.5", "sleep 92.5"}));
      REQUIRE(pexec.wait_for_stdout("", 0));
      // Wait until both running jobs exist before interrupting.
      for (int i = 0; i < 300 && std::system("test $(pgrep -fc '[s]leep 92.5') -ge 2") != 0; ++i) usleep(20000);
      pexec.signal(signal_number);
      CHECK(pexec.wait() == 128 + signal_number);
      CHECK_FALSE(process_alive("sleep 92.5"));
    }
  }
}

TEST_CASE("a closed stdout stops the run quietly with 141") {
  char path[] = "/tmp/pexec-many-XXXXXX";
  int fd = mkstemp(path);
  std::string items;
  for (int i = 0; i < 100000; ++i) items += std::to_string(i) + "\n";
  REQUIRE(write(fd, items.data(), items.size()) == static_cast<ssize_t>(items.size()));
  close(fd);
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    PexecProcess pexec(with_mode(mode, {"-j", "2", "-a", path, "echo"}));
    REQUIRE(pexec.wait_for_stdout("\n", 30));
    pexec.close_stdout();
    CHECK(pexec.wait(60) == 141);
    CHECK_FALSE(pexec.timed_out);
    CHECK(pexec.err.empty());
  }
  std::remove(path);
}

TEST_CASE("--tag, {#} and {%}, --dry-run, --version, --help") {
  auto tagged = run_pexec({"-k", "--tag", "printf 'x\\ny\\n'; echo {}", ":::", "a"});
  CHECK(tagged.out == "a\tx\na\ty\na\ta\n");
  auto numbered = run_pexec({"-j", "1", "-k", "echo {#}-{%}", ":::", "a", "b"});
  CHECK(numbered.out == "1-1\n2-1\n");
  auto dry = run_pexec({"--dry-run", "-j", "2", "gzip -k {}", ":::", "a b", "c"});
  CHECK(dry.status == 0);
  CHECK(dry.out == "gzip -k 'a b'\ngzip -k c\n");
  auto version = run_pexec({"--version"});
  CHECK(version.status == 0);
  CHECK(version.out.starts_with("pexec " PEXEC_VERSION "\n"));
  CHECK(version.out.find("MIT licence") != std::string::npos);
  CHECK(version.out.find("http") == std::string::npos);
}

TEST_CASE("--help is written for people: usage first, options in groups, defaults, no raw types") {
  auto help = run_pexec({"--help"});
  CHECK(help.status == 0);
  CHECK(help.out.starts_with("Usage: pexec [OPTIONS] [COMMAND [ARG...]] [:::[+] ITEM... | ::::[+] FILE...]...\n"));
  CHECK(help.out.find("Usage:", 1) == std::string::npos);  // once (CLI11's own form printed two)
  // The groups, in this order, each a line of its own after a blank line.
  std::size_t at = 0;
  for (const char* group : {"\n\nInput:\n", "\n\nRunning:\n", "\n\nStopping and retrying:\n", "\n\nRecords:\n",
                            "\n\nOutput:\n", "\n\nProgress:\n", "\n\nURL jobs:\n", "\n\nOther:\n"}) {
    std::size_t found = help.out.find(group, at);
    CHECK_MESSAGE(found != std::string::npos, std::string(group));
    if (found != std::string::npos) at = found;
  }
  // CLI11's internal types and ranges never show.
  for (const char* raw : {" in [", "INT", "FLOAT", "UINT", "TEXT", ":{", "9223372036854775807"}) {
    CHECK_MESSAGE(help.out.find(raw) == std::string::npos, std::string(raw));
  }
  std::istringstream lines(help.out);
  std::map<std::string, std::string> line_of;  // option lines (a long one goes on over two) by long name
  std::string last;
  for (std::string line; std::getline(lines, line);) {
    CHECK_MESSAGE(line.size() <= 100, line);
    std::smatch name;
    if (std::regex_search(line, name, std::regex("^  [-,A-Za-z0-9]*?(--[a-z][a-z0-9-]*)"))) {
      last = name[1];
      line_of[last] = line;
    } else if (line.starts_with("      ") && !last.empty()) {
      line_of[last] += line;
    }
  }
  for (const char* option : {"--jobs",
                             "--mode",
                             "--keep-order",
                             "--timeout",
                             "--grace",
                             "--deadline",
                             "--return-when",
                             "--halt",
                             "--retries",
                             "--retry-delay",
                             "--delay",
                             "--format",
                             "--color",
                             "--kind",
                             "--method",
                             "--max-redirects",
                             "--connect-timeout",
                             "--max-bytes",
                             "--max-chars",
                             "--trim",
                             "--summary",
                             "--max-tasks-per-child"}) {
    CHECK_MESSAGE(line_of[option].find("default") != std::string::npos, std::string(option));  // states its default
  }
  CHECK(line_of["--mode"].find("--mode thread|process ") != std::string::npos);
  CHECK(line_of["--timeout"].find("--timeout SECONDS ") != std::string::npos);
  CHECK(line_of["--jobs"].find("--max-procs N ") != std::string::npos);
}

TEST_CASE("--max-tasks-per-child replaces process workers") {
  auto r = run_pexec({"--mode", "process", "-j", "1", "--max-tasks-per-child", "2", "-k", "--format", "jsonl",
                      ":::", "true", "true", "true", "true", "true"});
  CHECK(r.status == 0);
  auto lines = parse_json_lines(r.out);
  REQUIRE(lines.size() == 5);
  std::vector<std::string> workers;
  for (auto& line : lines) workers.push_back(line["worker"]);
  CHECK(workers[0] == workers[1]);
  CHECK(workers[2] == workers[3]);
  CHECK(workers[1] != workers[2]);
  CHECK(workers[3] != workers[4]);
}

TEST_CASE("the manual renders with no warning from groff or mandoc") {
  auto groff = shell_output("groff -ww -man -z " PEXEC_MANUAL " 2>&1");
  CHECK(groff.second == 0);
  CHECK(groff.first == "");
  // mandoc's lint at warning level (its STYLE notes, such as source lines over 80 bytes, aside).
  auto mandoc = shell_output("mandoc -T lint -W warning " PEXEC_MANUAL " 2>&1");
  CHECK(mandoc.second == 0);
  CHECK(mandoc.first == "");
  // Each section the manual promises its readers is there.
  std::ifstream page(PEXEC_MANUAL);
  std::stringstream text;
  text << page.rdbuf();
  for (const char* section : {".SH ENVIRONMENT", ".SH FILES", ".SH EXIT STATUS", ".SH \"GNU PARALLEL AND XARGS\"",
                              ".SH LICENSE", ".SH SEE ALSO"}) {
    CHECK_MESSAGE(text.str().find(section) != std::string::npos, std::string(section));
  }
}

TEST_CASE("the manual's EXAMPLES run as written, and print what the manual says") {
  std::ifstream page(PEXEC_MANUAL);
  std::string line, block;
  struct Example {
    std::string script;
    std::optional<std::string> prints;  // the block after "prints:", if any
  };
  std::vector<Example> examples;
  bool in_examples = false, in_block = false, output_next = false;
  while (std::getline(page, line)) {
    if (line.starts_with(".SH")) in_examples = line == ".SH EXAMPLES";
    if (!in_examples) continue;
    if (line == "prints:") output_next = true;
    if (line == ".nf") {
      in_block = true;
      block.clear();
    } else if (line == ".fi") {
      in_block = false;
      if (output_next && !examples.empty())
        examples.back().prints = block;
      else
        examples.push_back({block, std::nullopt});
      output_next = false;
    } else if (in_block) {
      // roff escapes used in the page: \- is "-", \e is "\", \t a tab, \(aq and \(dq are quotes.
      for (std::size_t i = 0; i < line.size(); ++i) {
        std::string_view rest = std::string_view(line).substr(i);
        if (rest.starts_with("\\-")) {
          block += '-';
          ++i;
        } else if (rest.starts_with("\\e")) {
          block += '\\';
          ++i;
        } else if (rest.starts_with("\\t")) {
          block += '\t';
          ++i;
        } else if (rest.starts_with("\\(aq") || rest.starts_with("\\(dq")) {
          block += rest[2] == 'a' ? '\'' : '"';
          i += 3;
        } else {
          block += line[i];
        }
      }
      block += '\n';
    }
  }
  REQUIRE(examples.size() >= 10);
  char dir[] = "/tmp/pexec-man-XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string bin_dir = std::string(PEXEC_BINARY).substr(0, std::string(PEXEC_BINARY).rfind('/'));
  for (const Example& example : examples) {
    CAPTURE(example.script);
    std::string script_path = std::string(dir) + "/example.sh";
    std::string output_path = std::string(dir) + "/example.out";
    std::ofstream(script_path) << "cd " << dir << " && PATH=" << bin_dir << ":$PATH && set -e\n" << example.script;
    int status = std::system(("sh " + script_path + " > " + output_path + " 2>/dev/null").c_str());
    // Examples may show failing jobs (exit 1); a usage error (2) or a missing command (127) is a bug.
    int code = WEXITSTATUS(status);
    CHECK((code == 0 || code == 1));
    if (example.prints) {
      std::ifstream output(output_path);
      std::string printed((std::istreambuf_iterator<char>(output)), std::istreambuf_iterator<char>());
      CHECK(printed == *example.prints);
    }
  }
  CHECK(access((std::string(dir) + "/file1.gz").c_str(), F_OK) == 0);
  std::system(("rm -rf " + std::string(dir)).c_str());
}
