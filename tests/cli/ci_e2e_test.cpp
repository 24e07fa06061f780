// Runs that CI relies on, from the command line: the joblog (against GNU parallel's, where it is
// installed), --resume and its kin after an interrupted run, --retries and its delays, each
// --halt form, the JUnit report (validated with xmllint against tests/fixtures/junit.xsd) and
// the JSON lines file beside the text output.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pexec_process.hpp"

namespace {

using Args = std::vector<std::string>;
const std::vector<std::string> kModes = {"thread", "process"};

/// A directory of its own for each test, removed at the end.
struct TempDir {
  TempDir() {
    char name[] = "/tmp/pexec-ci-XXXXXX";
    REQUIRE(mkdtemp(name));
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
  std::string path;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// The joblog's rows (header left out) by Seq, each split at its TABs (the last holds the command).
std::multimap<int, std::vector<std::string>> joblog_rows(const std::string& path) {
  std::multimap<int, std::vector<std::string>> rows;
  std::vector<std::string> lines = lines_of(read_file(path));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (int k = 0; k < 8; ++k) {
      std::size_t tab = lines[i].find('\t', start);
      REQUIRE(tab != std::string::npos);
      fields.push_back(lines[i].substr(start, tab - start));
      start = tab + 1;
    }
    fields.push_back(lines[i].substr(start));
    rows.emplace(std::stoi(fields[0]), fields);
  }
  return rows;
}

/// How many lines `path` has (a marker file each run of a job appends to); 0 if it is missing.
int runs_of(const std::string& path) { return static_cast<int>(lines_of(read_file(path)).size()); }

bool have_gnu_parallel() { return std::system("command -v parallel > /dev/null 2>&1") == 0; }

/// Runs a shell line, returning its exit status.
int shell(const std::string& line) {
  int status = std::system(line.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("--joblog: GNU parallel's header and columns, and the same Exitval and Signal for each job") {
  TempDir dir;
  Args jobs = {":::", "true", "false", "sleep 9", "exit 3", "echo hello"};
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    Args args = {"--mode", mode, "--joblog", dir / "pexec.log", "-t", "0.5"};
    args.insert(args.end(), jobs.begin(), jobs.end());
    PexecRun run = run_pexec(args);
    CHECK(run.status == 1);
    std::string log = read_file(dir / "pexec.log");
    CHECK(log.starts_with("Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"));
    auto rows = joblog_rows(dir / "pexec.log");
    REQUIRE(rows.size() == 5);
    const std::regex starttime(R"(\d{10}\.\d{3})"), runtime(R"( {0,5}\d+\.\d{3})");
    for (const auto& [seq, row] : rows) {
      CAPTURE(seq);
      CHECK(row[1] == ":");
      CHECK(std::regex_match(row[2], starttime));
      CHECK(row[3].size() >= 10);  // %10.3f
      CHECK(std::regex_match(row[3], runtime));
      CHECK(row[4] == "0");
    }
    auto row = [&](int seq) { return rows.find(seq)->second; };
    CHECK(row(1)[6] == "0");
    CHECK(row(2)[6] == "1");
    CHECK((row(3)[6] == "-1" && row(3)[7] == "15"));  // stopped at its timeout
    CHECK(row(4)[6] == "3");
    CHECK(row(5)[5] == "6");  // Receive: the bytes of its stdout
    CHECK(row(5)[8] == "echo hello");
  }
  if (!have_gnu_parallel()) {
    MESSAGE("skipped: the comparison with GNU parallel's joblog (parallel is not installed)");
    return;
  }
  CHECK(shell("cd " + dir.path +
              " && parallel --will-cite --joblog gnu.log --timeout 0.5 ::: true false 'sleep 9' 'exit 3' "
              "'echo hello' > /dev/null 2>&1") != 0);
  auto gnu = joblog_rows(dir / "gnu.log");
  auto ours = joblog_rows(dir / "pexec.log");
  CHECK(lines_of(read_file(dir / "gnu.log"))[0] == lines_of(read_file(dir / "pexec.log"))[0]);
  REQUIRE(gnu.size() == ours.size());
  for (const auto& [seq, row] : gnu) {
    CAPTURE(seq);
    const auto& mine = ours.find(seq)->second;
    CHECK(mine[1] == row[1]);  // Host
    CHECK(mine[3].size() == row[3].size());
    CHECK(mine[5] == row[5]);  // Receive
    CHECK(mine[6] == row[6]);  // Exitval
    CHECK(mine[7] == row[7]);  // Signal
    CHECK(mine[8] == row[8]);  // Command
  }
}

TEST_CASE("--joblog: a SIGKILLed pexec leaves every job it reported in the joblog, and +FILE appends") {
  TempDir dir;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::string log = dir / ("log-" + mode);
    PexecProcess pexec(
        {"--mode", mode, "-j", "2", "--joblog", log, ":::", "echo one", "echo two", "sleep 3.71", "sleep 3.72"});
    REQUIRE(pexec.wait_for_stdout("one\n"));
    REQUIRE(pexec.wait_for_stdout("two\n"));
    // Each row reaches the file right after the job's output, while pexec runs (no buffer
    // that only an orderly exit would write): then SIGKILL loses none of them.
    for (int i = 0; i < 200 && joblog_rows(log).size() < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    pexec.signal(SIGKILL);
    pexec.wait();
    auto rows = joblog_rows(log);
    CHECK(rows.count(1) == 1);
    CHECK(rows.count(2) == 1);
    CHECK(rows.count(3) + rows.count(4) == 0);  // still running when pexec was killed
    shell("pkill -f 'sleep 3.7[12]'");
    PexecRun more = run_pexec({"--mode", mode, "--joblog", "+" + log, ":::", "echo three"});
    CHECK(more.status == 0);
    std::vector<std::string> lines = lines_of(read_file(log));
    CHECK(lines.size() == 4);  // one header, then the rows of both runs
    CHECK(lines.back().ends_with("\techo three"));
  }
}

TEST_CASE("--resume, --resume-failed and --retry-failed after an interrupted run run each job as often as expected") {
  for (const auto& mode : kModes) {
    for (bool keep_order : {false, true}) {
      CAPTURE(mode);
      CAPTURE(keep_order);
      TempDir dir;
      // Job 3 fails; job 5 waits (until the file "go" exists) so that the run can be interrupted.
      std::ofstream(dir / "job.sh") << "echo run >> \"" << dir.path << "/$1\"\n"
                                    << "case $1 in 3) exit 1 ;; 5) [ -e \"" << dir.path
                                    << "/go\" ] || sleep 30 ;; esac\necho \"job $1\"\n";
      Args common = {"--mode", mode, "-j", "2", "--joblog", dir / "log"};
      if (keep_order) common.push_back("-k");
      auto with = [&](Args more) {
        Args args = common;
        args.insert(args.end(), more.begin(), more.end());
        for (const char* word : {"sh", "JOB", ":::", "1", "2", "3", "4", "5", "6"})
          args.push_back(word == std::string("JOB") ? dir / "job.sh" : word);
        return args;
      };

      PexecProcess first(with({}));
      // Job 5 waits; job 6 runs beside it and ends. Then Ctrl-C stops job 5.
      auto wait_for_run = [&](const std::string& job) {
        for (int i = 0; i < 400 && runs_of(dir / job) == 0; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return runs_of(dir / job);
      };
      REQUIRE(wait_for_run("5") == 1);
      REQUIRE(wait_for_run("6") == 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      first.signal(SIGINT);
      CHECK(first.wait() == 130);
      for (int job = 1; job <= 6; ++job) CHECK(runs_of(dir / std::to_string(job)) == 1);

      std::ofstream(dir / "go") << "";
      PexecRun resumed = run_pexec(with({"--resume"}));
      CHECK(resumed.status == 0);
      CHECK(runs_of(dir / "1") == 1);
      CHECK(runs_of(dir / "3") == 1);  // failed, but recorded: --resume skips it
      CHECK(runs_of(dir / "5") == 2);  // stopped by the Ctrl-C: not recorded, so run again
      // With -k, job 6's output waited for job 5's report (killed), then was shown and recorded.
      CHECK(runs_of(dir / "6") == 1);
      CHECK(resumed.out.find("job 5\n") != std::string::npos);
      CHECK(resumed.out.find("job 1\n") == std::string::npos);

      PexecRun resumed_failed = run_pexec(with({"--resume-failed"}));
      CHECK(resumed_failed.status == 1);  // 3 runs again, and fails again
      CHECK(runs_of(dir / "3") == 2);
      for (int job : {1, 2, 4}) CHECK(runs_of(dir / std::to_string(job)) == 1);
      CHECK(runs_of(dir / "5") == 2);

      PexecRun retried = run_pexec(with({"--retry-failed"}));  // the commands come from the joblog
      CHECK(retried.status == 1);
      CHECK(runs_of(dir / "3") == 3);
      CHECK(retried.err.find("pexec: 1 of 1 job failed") != std::string::npos);
      for (int job : {1, 2, 4}) CHECK(runs_of(dir / std::to_string(job)) == 1);
      CHECK(runs_of(dir / "5") == 2);
      // Each run of job 3 is a row of the joblog, under its own number.
      CHECK(joblog_rows(dir / "log").count(3) == 3);
    }
  }
}

TEST_CASE("--retries: a job that fails twice then succeeds is ok after 3 attempts, with the delays between") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    TempDir dir;
    std::string counter = dir / "count";
    std::string job = "echo run >> " + counter + "; n=$(wc -l < " + counter + "); echo attempt $n; [ $n -ge 3 ]";
    auto start = std::chrono::steady_clock::now();
    PexecRun run = run_pexec({"--mode", mode, "--format", "jsonl", "--retries", "3", "--retry-delay", "0.3", "--joblog",
                              dir / "log", ":::", job, "echo fine"});
    double elapsed = seconds_since(start);
    CHECK(run.status == 0);
    CHECK(elapsed >= 0.9);  // 0.3 s before the 2nd attempt, 0.6 s before the 3rd
    auto lines = parse_json_lines(run.out);
    REQUIRE(lines.size() == 2);
    for (const auto& line : lines) {
      if (line["seq"] != 1) continue;
      CHECK(line["status"] == "ok");
      CHECK(line["attempts"] == 3);
      CHECK(line["stdout"] == "attempt 3\n");  // only the last attempt's output
    }
    auto rows = joblog_rows(dir / "log");
    CHECK(rows.count(1) == 3);  // every attempt
    CHECK(rows.count(2) == 1);
    PexecRun failing = run_pexec({"--mode", mode, "--retries", "2", "--retry-delay", "0", ":::", "echo try; exit 4"});
    CHECK(failing.status == 1);
    CHECK(failing.out == "try\n");
    CHECK(failing.err == "pexec: job 1 failed (exit 4, 2 attempts): echo try; exit 4\npexec: 1 of 1 job failed\n");
  }
}

TEST_CASE("--delay spaces job starts, and a timed-out job is retried too") {
  TempDir dir;
  auto start = std::chrono::steady_clock::now();
  PexecRun spaced = run_pexec({"-j", "3", "--delay", "0.3", ":::", "true", "true", "true"});
  CHECK(spaced.status == 0);
  CHECK(seconds_since(start) >= 0.6);
  std::string counter = dir / "count";
  PexecRun timed_out = run_pexec({"--format", "jsonl", "-t", "0.3", "--retries", "2", "--retry-delay", "0",
                                  ":::", "echo run >> " + counter + "; sleep 5"});
  CHECK(timed_out.status == 1);
  CHECK(runs_of(counter) == 2);
  auto lines = parse_json_lines(timed_out.out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["status"] == "timeout");
  CHECK(lines[0]["attempts"] == 2);
}

TEST_CASE("each --halt form: which jobs ran, and the exit status, as GNU parallel documents them") {
  // One job at a time, so that the order is known: jobs 2 and 4 fail.
  Args jobs = {":::", "echo 1", "echo 2; exit 2", "echo 3", "echo 4; exit 4", "echo 5", "echo 6"};
  struct Case {
    std::string halt;
    std::string ran;  // what the jobs that ran printed
    int status;
    bool gnu_status;  // whether GNU parallel exits with the same status
  };
  const std::vector<Case> cases = {
      {"never", "1\n2\n3\n4\n5\n6\n", 1, false},  // GNU: the number of failed jobs (2)
      {"now,fail=1", "1\n2\n", 2, true},          // the failed job's own exit status
      {"soon,fail=2", "1\n2\n3\n4\n", 1, false},  // GNU: the number of failed jobs (2)
      {"now,success=1", "1\n", 0, true},
      {"soon,success=3", "1\n2\n3\n4\n5\n", 0, true},
      {"now,done=3", "1\n2\n3\n", 1, true},  // 1 if any failed (GNU: the number failed, 1 here)
      {"now,done=1", "1\n", 0, true},
      {"2", "1\n2\n", 2, true},  // GNU's old spelling of now,fail=1
  };
  bool gnu = have_gnu_parallel();
  if (!gnu) MESSAGE("skipped: the comparison with GNU parallel's --halt (parallel is not installed)");
  for (const auto& mode : kModes) {
    for (const Case& c : cases) {
      CAPTURE(mode);
      CAPTURE(c.halt);
      Args args = {"--mode", mode, "-j", "1", "--halt", c.halt};
      args.insert(args.end(), jobs.begin(), jobs.end());
      PexecRun run = run_pexec(args);
      CHECK(run.out == c.ran);
      CHECK(run.status == c.status);
      if (!gnu || mode != "thread") continue;
      std::string line = "parallel --will-cite -j 1 --halt " + c.halt +
                         " ::: 'echo 1' 'echo 2; exit 2' 'echo 3' 'echo 4; exit 4' 'echo 5' 'echo 6' 2>/dev/null";
      FILE* pipe = popen(line.c_str(), "r");
      REQUIRE(pipe);
      std::string out;
      char buffer[256];
      while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
      int status = WEXITSTATUS(pclose(pipe));
      CHECK(out == c.ran);
      if (c.gnu_status) CHECK(status == c.status);
    }
  }
  // A percentage is judged over the jobs done so far, once 3 are: 2 of 4 failed is 50 %.
  PexecRun half = run_pexec({"-j", "1", "--halt", "soon,fail=50%", ":::", "echo 1", "echo 2; exit 2", "echo 3",
                             "echo 4; exit 4", "echo 5", "echo 6"});
  CHECK(half.out == "1\n2\n3\n4\n");
  CHECK(half.status == 1);
  // now: the running jobs are stopped; soon: they finish.
  PexecRun now =
      run_pexec({"--format", "jsonl", "-j", "2", "--halt", "now,fail=1", ":::", "sleep 5", "sleep 0.3; exit 7"});
  CHECK(now.status == 7);
  auto lines = parse_json_lines(now.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1]["status"] == "killed");
  PexecRun soon =
      run_pexec({"-j", "2", "--halt", "soon,fail=1", ":::", "sleep 1; echo finished", "exit 7", "echo never"});
  CHECK(soon.status == 7);
  CHECK(soon.out == "finished\n");
}

TEST_CASE("--junit: a report JUnit readers accept, with the right counts, also after a SIGINT") {
  TempDir dir;
  std::string schema = std::string(PEXEC_FIXTURES) + "/junit.xsd";
  auto valid = [&](const std::string& path) {
    return shell("xmllint --noout --schema " + schema + " " + path + " 2>/dev/null") == 0;
  };
  REQUIRE_MESSAGE(shell("command -v xmllint > /dev/null") == 0, "xmllint (libxml2-utils) is needed");
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::string report = dir / ("report-" + mode + ".xml");
    PexecRun run = run_pexec({"--mode", mode, "--junit", report, "-t", "0.5", "--tagstring", "job {#}",
                              ":::", "echo ok", "echo 'bad <&> input' >&2; exit 3", "sleep 5", "kill -9 $$"});
    CHECK(run.status == 1);
    REQUIRE(valid(report));
    std::string xml = read_file(report);
    CHECK(xml.find("<testsuite name=\"pexec\" tests=\"4\" failures=\"3\" errors=\"0\" skipped=\"0\"") !=
          std::string::npos);
    CHECK(xml.find("<testcase name=\"job 2\" classname=\"pexec\"") != std::string::npos);
    CHECK(xml.find("<failure message=\"exit 3\" type=\"exit\">bad &lt;&amp;&gt; input\n</failure>") !=
          std::string::npos);
    CHECK(xml.find("<failure message=\"timeout after 0.5s\" type=\"timeout\">") != std::string::npos);
    CHECK(xml.find("<failure message=\"signal SIGKILL\" type=\"signal\">") != std::string::npos);

    std::string interrupted = dir / ("interrupted-" + mode + ".xml");
    PexecProcess pexec({"--mode", mode, "-j", "1", "--junit", interrupted, ":::", "echo first", "sleep 30", "echo c"});
    REQUIRE(pexec.wait_for_stdout("first\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    pexec.signal(SIGINT);
    CHECK(pexec.wait() == 130);
    REQUIRE(valid(interrupted));
    CHECK(read_file(interrupted).find("tests=\"3\" failures=\"0\" errors=\"0\" skipped=\"2\"") != std::string::npos);
  }
  // Written whole at the end: no half report in the directory, and nothing else left there.
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path)) files += entry.is_regular_file();
  CHECK(files == 4);
  PexecRun unwritable = run_pexec({"--junit", "/nonexistent/dir/report.xml", ":::", "echo hi"});
  CHECK(unwritable.status == 2);
  CHECK(unwritable.out.empty());
}

TEST_CASE("--jsonl-file and --results FILE.jsonl write the JSON lines report beside the text output") {
  TempDir dir;
  for (const char* option : {"--jsonl-file", "--results"}) {
    CAPTURE(option);
    std::string file = dir / "report.jsonl";
    PexecRun run = run_pexec({"-k", option, file, ":::", "echo a", "echo b; exit 1"});
    CHECK(run.status == 1);
    CHECK(run.out == "a\nb\n");
    auto lines = parse_json_lines(read_file(file));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["stdout"] == "a\n");
    CHECK(lines[1]["exit_code"] == 1);
  }
}

TEST_CASE("--tagstring: replacement strings in the tag, and -k with --resume keeps input order") {
  PexecRun tagged = run_pexec({"-k", "--tagstring", "{1}-{#}:", "echo", "hi", ":::", "a", "b"});
  CHECK(tagged.out == "a-1:\thi a\nb-2:\thi b\n");
  TempDir dir;
  CHECK(run_pexec({"--joblog", dir / "log", "echo", ":::", "1", "2", "3"}).status == 0);
  PexecRun resumed = run_pexec({"-k", "--joblog", dir / "log", "--resume", "echo", ":::", "1", "2", "3", "4", "5"});
  CHECK(resumed.out == "4\n5\n");
}

TEST_CASE("--ctag and --ctagstring colour the tags on a terminal only, and never with NO_COLOR") {  // also --tag
  if (shell("command -v script > /dev/null") != 0) {
    MESSAGE("skipped: --ctag on a terminal (script(1), from bsdutils, is not installed)");
    return;
  }
  // script(1) runs pexec on a pseudo-terminal of its own.
  auto on_terminal = [](const std::string& environment, const std::string& options) {
    std::string line =
        environment + " script -qc \"" PEXEC_BINARY " -k --no-summary " + options + " echo hi ::: a b\" /dev/null";
    FILE* pipe = popen(line.c_str(), "r");
    REQUIRE(pipe);
    std::string out;
    char buffer[256];
    while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    pclose(pipe);
    return out;
  };
  CHECK(on_terminal("", "--ctag") == "\033[30;42ma\033[0m\thi a\r\n\033[30;43mb\033[0m\thi b\r\n");
  CHECK(on_terminal("", "--ctagstring '<{#}>'") == "\033[30;42m<1>\033[0m\thi a\r\n\033[30;43m<2>\033[0m\thi b\r\n");
  CHECK(on_terminal("NO_COLOR=1", "--ctag") == "a\thi a\r\nb\thi b\r\n");
  CHECK(run_pexec({"-k", "--ctag", "echo", "hi", ":::", "a", "b"}).out == "a\thi a\nb\thi b\n");  // a pipe
}
