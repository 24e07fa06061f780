// Jobs on other hosts over ssh (-S), end to end: each case starts two sshds of its own on
// 127.0.0.1 (tests/fixtures/ssh_hosts.sh: throwaway keys, a test user with /bin/sh, h1 pinned to
// one CPU) and stops them by PID. The built pexec reaches them through `--ssh "ssh -F CONFIG"`.
// Where the fixture cannot run (not root, no sshd) each case says "skipped".
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon_fixture.hpp"
#include "pexec_process.hpp"
#include "shell_output.hpp"

namespace {

const std::string kFixture = PEXEC_FIXTURES "/ssh_hosts.sh";

/// Two sshds (h1, h2) and an ssh_config naming them; stopped by PID at the end.
struct SshHosts : DaemonFixture {
  explicit SshHosts(const std::string& sshd_extra = "") : DaemonFixture(kFixture, "SSHD_EXTRA='" + sshd_extra + "'") {}
  /// pexec's arguments to reach the hosts, then `args`.
  std::vector<std::string> args(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--ssh", "ssh -F " + dir + "/ssh_config"});
    return args;
  }
  void kill_host(const std::string& host) const { shell_output(kFixture + " kill-host " + dir + " " + host); }
  /// Adds host hn: its own network namespace, address, hostname and a private home. False (and
  /// a "skipped" message) where namespaces cannot be made.
  bool start_netns_host() const { return run("start-netns"); }
  /// hn's link down (a network partition) or up.
  void set_link(const std::string& state) const { shell_output(kFixture + " link " + dir + " " + state); }
  /// What `command` prints on `host`, run by plain ssh.
  std::string on(const std::string& host, const std::string& command) const {
    return shell_output("ssh -F " + dir + "/ssh_config " + host + " '" + command + "'").first;
  }
};

/// Runs the test in a new scratch folder (the current folder is where pexec takes files from).
struct ScratchFolder {
  std::string path, was;
  ScratchFolder() {
    char pattern[] = "/tmp/pexec-files-XXXXXX";
    path = ::mkdtemp(pattern);
    char here[4096];
    was = ::getcwd(here, sizeof here);
    REQUIRE(::chdir(path.c_str()) == 0);
  }
  ~ScratchFolder() {
    [[maybe_unused]] int ignored = ::chdir(was.c_str());
    shell_output("rm -rf " + path);
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(path + "/" + name) << text; }
  std::string read(const std::string& name) const {
    std::ifstream file(path + "/" + name);
    return std::string(std::istreambuf_iterator<char>(file), {});
  }
};

/// How many of the test user's live processes (zombies aside) have `marker` in their command.
int remote_processes(const std::string& marker) {
  return std::stoi(
      shell_output("ps -u pexectest -o stat=,args= | grep -v '^Z' | grep -c -- '" + marker + "' || true").first);
}

/// Waits up to `seconds` for none of them to be left; the count left.
int left_after(const std::string& marker, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int left = remote_processes(marker);
  while (left > 0 && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = remote_processes(marker);
  }
  return left;
}

/// Reads pexec's output for a tenth of a second (so that it never blocks on a full pipe).
void pump(PexecProcess& pexec) { pexec.wait_for_stdout("\x01 never printed", 0.1); }

/// Exit code as a shell reports it: 128 + the signal for a job killed by one.
int shell_status(const nlohmann::json& job) {
  if (!job["exit_code"].is_null()) return job["exit_code"];
  return job["signal"].is_null() ? -1 : 128 + job["signal"].get<int>();
}

}  // namespace

TEST_CASE("a remote job gives the exit code, stdout and stderr that the same job gives here") {
  SshHosts hosts;
  if (!hosts.running) return;
  const std::vector<std::string> jobs{
      "echo out; echo err >&2; exit 0",
      "exit 3",
      "exit 255",  // the job's own 255: no ssh failure
      "kill -TERM $$",
      "kill -KILL $$",
      "no_such_command_pexec_test",
      "printf 'no newline'",
      "printf '\\000\\001\\377binary'",
      "printf '%s|' 'a b' \"it's\" '\"q\"' '$HOME' '`id`' 'ü'",
  };
  std::vector<std::string> here_args{"-k", "--format", "jsonl", "-S", ":", ":::"};
  std::vector<std::string> there_args{"-k", "--format", "jsonl", "-S", "1/h1", ":::"};
  here_args.insert(here_args.end(), jobs.begin(), jobs.end());
  there_args.insert(there_args.end(), jobs.begin(), jobs.end());
  auto here = run_pexec(hosts.args(here_args));
  auto there = run_pexec(hosts.args(there_args));
  CHECK(here.status == 1);
  CHECK(there.status == 1);
  auto local = parse_json_lines(here.out);
  auto remote = parse_json_lines(there.out);
  REQUIRE(local.size() == jobs.size());
  REQUIRE(remote.size() == jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    CAPTURE(jobs[i]);
    CHECK(remote[i]["host"] == "h1");
    CHECK(local[i]["host"] == ":");
    CHECK(remote[i]["status"] == local[i]["status"]);
    CHECK(shell_status(remote[i]) == shell_status(local[i]));
    CHECK(remote[i]["stdout"] == local[i]["stdout"]);
    CHECK(remote[i]["stderr"] == local[i]["stderr"]);
  }
  CHECK(shell_status(remote[2]) == 255);
  CHECK(remote[2]["error"].is_null());  // not taken for an ssh failure
  CHECK(shell_status(remote[3]) == 143);
  CHECK(shell_status(remote[4]) == 137);
  CHECK(shell_status(remote[5]) == 127);
}

TEST_CASE("each host runs at most its slots: N/, or its CPU count, with slots spread over the hosts") {
  SshHosts hosts;
  if (!hosts.running) return;
  // Each job prints when it started and ended, by the host's clock (this machine's).
  const std::string job = "echo $(date +%s.%N) $PARALLEL_SSHHOST; sleep 0.6; echo $(date +%s.%N)";
  for (const std::string& logins : {std::string("2/h1,1/h2"), std::string("h1,h2")}) {
    CAPTURE(logins);
    // h1 runs on one CPU (nproc 1), h2 on two where there are two: without N/, that many slots.
    int h2_cpus = std::stoi(shell_output("ssh -F " + hosts.dir + "/ssh_config h2 nproc").first);
    std::map<std::string, int> wanted = logins == "h1,h2" ? std::map<std::string, int>{{"h1", 1}, {"h2", h2_cpus}}
                                                          : std::map<std::string, int>{{"h1", 2}, {"h2", 1}};
    std::vector<std::string> args{"--format", "jsonl", "-S", logins, job, ":::"};
    for (int i = 0; i < 9; ++i) args.push_back(std::to_string(i));
    auto r = run_pexec(hosts.args(args));
    CHECK(r.status == 0);
    std::map<std::string, std::vector<std::pair<double, double>>> spans;
    for (const auto& line : parse_json_lines(r.out)) {
      std::istringstream text(line["stdout"].get<std::string>());
      double start, end;
      std::string host;
      text >> start >> host >> end;
      CHECK(line["host"] == host);
      spans[host].push_back({start, end});
    }
    for (const auto& [host, most] : wanted) {
      CAPTURE(host);
      int busiest = 0;
      for (const auto& [start, end] : spans[host]) {
        int at_once = static_cast<int>(std::count_if(spans[host].begin(), spans[host].end(), [&](const auto& other) {
          return other.first <= start && start < other.second;
        }));
        busiest = std::max(busiest, at_once);
      }
      CHECK(busiest == most);  // never more, and all of them used
    }
  }
}

TEST_CASE("a remote job stopped at its timeout leaves nothing running on its host") {
  SshHosts hosts;
  if (!hosts.running) return;
  auto r = run_pexec(
      hosts.args({"--format", "jsonl", "-S", "h1", "-t", "1", "--grace", "0.5", "sleep 31; echo never", ":::", "x"}));
  CHECK(r.status == 1);
  auto jobs = parse_json_lines(r.out);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["status"] == "timeout");
  CHECK(jobs[0]["stdout"] == "");
  CHECK(left_after("sleep 31", 1.5) == 0);
  // A job that ignores SIGTERM gets SIGKILL after --grace.
  r = run_pexec(hosts.args({"--format", "jsonl", "-S", "h1", "-t", "1", "--grace", "0.5",
                            "trap '' TERM; sleep 32; echo never", ":::", "x"}));
  jobs = parse_json_lines(r.out);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["status"] == "timeout");
  CHECK(left_after("sleep 32", 1.5) == 0);
}

TEST_CASE("SIGINT, SIGTERM or SIGKILL to pexec leaves no remote job, no ssh and no file behind") {
  SshHosts hosts;
  if (!hosts.running) return;
  // pexec's private folder for ssh (sockets, logs) goes under this TMPDIR: it must end empty.
  std::string tmp = hosts.dir + "/tmp";
  shell_output("mkdir -p " + tmp);
  ::setenv("TMPDIR", tmp.c_str(), 1);
  for (int signal : {SIGINT, SIGTERM, SIGKILL}) {
    CAPTURE(signal);
    PexecProcess pexec(
        hosts.args({"--line-buffer", "-S", "2/h1,2/h2", "echo started; sleep 33", ":::", "1", "2", "3", "4"}));
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (remote_processes("sleep 33") < 4 && std::chrono::steady_clock::now() < end) pump(pexec);
    REQUIRE(remote_processes("sleep 33") >= 4);
    pexec.signal(signal);
    int status = pexec.wait(30);
    CHECK(status == 128 + signal);
    CHECK(left_after("sleep 33", 5) == 0);
    // ("[s]sh": the shell running pgrep has the pattern in its own command line.)
    CHECK(shell_output("pgrep -f '[s]sh -F " + hosts.dir + "' || true").first == "");
    auto end_of_files = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!shell_output("ls -A " + tmp).first.empty() && std::chrono::steady_clock::now() < end_of_files)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(shell_output("ls -A " + tmp).first == "");
  }
  ::unsetenv("TMPDIR");
}

TEST_CASE("a host that cannot be reached is dropped with one warning, and with none reachable pexec exits 255") {
  SshHosts hosts;
  if (!hosts.running) return;
  auto r = run_pexec(
      hosts.args({"--format", "jsonl", "-S", "1/h1,1/hdown", "echo $PARALLEL_SSHHOST", ":::", "1", "2", "3"}));
  CHECK(r.status == 0);
  CHECK(r.err.starts_with("pexec: warning: hdown dropped: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  for (const auto& job : parse_json_lines(r.out))
    CHECK(job["stdout"] == "h1 " + job["input"].get<std::string>() + "\n");
  auto none = run_pexec(hosts.args({"-S", "hdown", "true", ":::", "1"}));
  CHECK(none.status == 255);
  CHECK(none.out == "");
  CHECK(none.err.find("pexec: no host of -S can be reached (hdown: ") != std::string::npos);
}

TEST_CASE("jobs of a host lost mid-run run again on another host, without spending --retries") {
  SshHosts hosts;
  if (!hosts.running) return;
  PexecProcess pexec(hosts.args({"-k", "--format", "jsonl", "-S", "1/h1,1/h2", "sleep 1; echo done $PARALLEL_SSHHOST",
                                 ":::", "1", "2", "3", "4", "5"}));
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (remote_processes("sleep 1") < 2 && std::chrono::steady_clock::now() < end) pump(pexec);
  hosts.kill_host("h2");  // its sshd and every connection it serves, while both hosts run a job
  int status = pexec.wait(60);
  CHECK(status == 0);
  auto jobs = parse_json_lines(pexec.out);
  REQUIRE(jobs.size() == 5);
  for (const auto& job : jobs) {
    CHECK(job["status"] == "ok");
    CHECK(job["attempts"] == 1);
    CHECK(job["stdout"] == "done h1 " + job["input"].get<std::string>() + "\n");
  }
}

TEST_CASE("--retries runs a failed job again on a host where it has not failed") {
  SshHosts hosts;
  if (!hosts.running) return;
  auto r = run_pexec(hosts.args({"--format", "jsonl", "--retries", "2", "--retry-delay", "0", "-S", "1/h1,1/h2",
                                 "test $PARALLEL_SSHHOST = h2 && echo on h2", ":::", "x"}));
  CHECK(r.status == 0);
  auto jobs = parse_json_lines(r.out);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["attempts"] == 2);
  CHECK(jobs[0]["host"] == "h2");
  CHECK(jobs[0]["stdout"] == "on h2 x\n");
}

TEST_CASE("sshd limits: MaxStartups 2 with 16 slots, MaxSessions 2 with 6 slots: every job runs cleanly") {
  for (const std::string& limit : {std::string("MaxStartups 2:100:2"), std::string("MaxSessions 2")}) {
    CAPTURE(limit);
    SshHosts hosts(limit);
    if (!hosts.running) return;
    std::string slots = limit.starts_with("MaxStartups") ? "16/h1" : "6/h1";
    std::vector<std::string> args{"--format", "jsonl", "-S", slots, "sleep 0.3; echo ok {}", ":::"};
    for (int i = 0; i < 24; ++i) args.push_back(std::to_string(i));
    auto r = run_pexec(hosts.args(args));
    CHECK(r.status == 0);
    CHECK(r.err == "");
    auto jobs = parse_json_lines(r.out);
    CHECK(jobs.size() == 24);
    for (const auto& job : jobs) {
      CHECK(job["status"] == "ok");
      CHECK(job["stderr"] == "");  // no "Session open refused" or any other word from ssh
    }
  }
}

TEST_CASE("remote jobs see PARALLEL_SEQ, PARALLEL_JOBSLOT, PARALLEL_SSHLOGIN, PARALLEL_SSHHOST and --env") {
  SshHosts hosts;
  if (!hosts.running) return;
  ::setenv("PEXEC_TEST_VALUE", "it's a \"value\" $x", 1);
  auto r = run_pexec(
      hosts.args({"-k", "--env", "PEXEC_TEST_VALUE", "-S", "1/h1", "--joblog", hosts.dir + "/log",
                  "echo $PARALLEL_SEQ $PARALLEL_JOBSLOT $PARALLEL_SSHLOGIN $PARALLEL_SSHHOST \"$PEXEC_TEST_VALUE\"",
                  ":::", "a", "b"}));
  CHECK(r.status == 0);
  CHECK(r.out == "1 1 h1 h1 it's a \"value\" $x a\n2 1 h1 h1 it's a \"value\" $x b\n");
  // The joblog's Host column names the login, as GNU parallel's does.
  auto log = shell_output("cut -f2 " + hosts.dir + "/log").first;
  CHECK(log == "Host\nh1\nh1\n");
}

TEST_CASE("--sshloginfile, --no-controlmaster, --ssh-delay, -M and --filter-hosts each run the jobs as asked") {
  SshHosts hosts;
  if (!hosts.running) return;
  std::string file = hosts.dir + "/logins";
  std::ofstream(file) << "# build hosts\n1/h1  # the small one\n\n1/hdown\n1/h2\n";
  const std::vector<std::string> job{"echo $PARALLEL_SSHHOST {}", ":::", "a", "b", "c", "d"};
  for (const std::vector<std::string>& options : {std::vector<std::string>{"--slf", file},
                                                  {"--slf", file, "--no-controlmaster"},
                                                  {"--slf", file, "--ssh-delay", "0.2"},
                                                  {"--slf", file, "-M", "--filter-hosts"}}) {
    CAPTURE(options[options.size() - 1]);
    std::vector<std::string> args{"--format", "jsonl", "-k"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), job.begin(), job.end());
    auto r = run_pexec(hosts.args(args));
    CHECK(r.status == 0);
    CHECK(r.err.starts_with("pexec: warning: hdown dropped: "));
    std::map<std::string, int> per_host;
    for (const auto& line : parse_json_lines(r.out)) {
      CHECK(line["status"] == "ok");
      CHECK(line["stdout"] == line["host"].get<std::string>() + " " + line["input"].get<std::string>() + "\n");
      ++per_host[line["host"]];
    }
    CHECK(per_host["h1"] + per_host["h2"] == 4);
    CHECK(per_host["h1"] > 0);  // both hosts of the file used
    CHECK(per_host["h2"] > 0);
  }
  CHECK(run_pexec({"--no-controlmaster", "echo", ":::", "x"}).err ==
        "pexec: --no-controlmaster applies to -S/--sshlogin hosts only\n");
}

TEST_CASE("--transferfile, --return and --cleanup: files reach a host with a private home and come back") {
  SshHosts hosts;
  if (!hosts.running || !hosts.start_netns_host()) return;
  ScratchFolder here;
  here.write("a.txt", "alpha\n");
  shell_output("mkdir -p " + here.path + "/deep/er && printf 'beta' > " + here.path + "/deep/er/b.txt");
  // The job counts its file's bytes on hn (whose home is its own: the file is there only if sent).
  auto r = run_pexec(hosts.args({"-k", "--format", "jsonl", "-S", "hn", "--trc", "{}.count",
                                 "hostname; wc -c < {} > {}.count", ":::", "a.txt", "deep/er/b.txt"}));
  CHECK(r.status == 0);
  CHECK(r.err == "");
  auto jobs = parse_json_lines(r.out);
  REQUIRE(jobs.size() == 2);
  for (const auto& job : jobs) {
    CHECK(job["status"] == "ok");
    CHECK(job["stdout"] == "pexec-hn\n");
  }
  CHECK(here.read("a.txt.count") == "6\n");
  CHECK(here.read("deep/er/b.txt.count") == "4\n");
  // hn is a host of its own: its name, its one CPU (its slots without N/), its home.
  r = run_pexec(hosts.args({"-S", "hn", "--nonall", "echo $(hostname) $(nproc) $HOME"}));
  CHECK(r.out == "pexec-hn 1 /home/pexectest\n");
  // --cleanup: what was sent and what came back are gone, and the folders they made.
  CHECK(hosts.on("hn", "ls -A") == ".ssh\n");

  // Without --cleanup the files stay where the job ran.
  r = run_pexec(
      hosts.args({"-S", "hn", "--tf", "{}", "--return", "{}.count", "wc -c < {} > {}.count", ":::", "a.txt"}));
  CHECK(r.status == 0);
  CHECK(hosts.on("hn", "ls -A; cat a.txt.count") == ".ssh\na.txt\na.txt.count\n6\n");
}

TEST_CASE("--basefile reaches every host before its jobs, and --workdir ... gives each job a folder removed after it") {
  SshHosts hosts;
  if (!hosts.running || !hosts.start_netns_host()) return;
  ScratchFolder here;
  here.write("base.cfg", "shared settings\n");
  auto r = run_pexec(hosts.args({"-k", "--format", "jsonl", "-S", "1/hn,1/h1", "--bf", "base.cfg", "--cleanup", "--wd",
                                 "...", "pwd; cat ~/base.cfg; : {}", ":::", "1", "2", "3", "4"}));
  CHECK(r.status == 0);
  auto jobs = parse_json_lines(r.out);
  REQUIRE(jobs.size() == 4);
  std::set<std::string> folders;
  for (const auto& job : jobs) {
    std::string out = job["stdout"];
    CAPTURE(out);
    CHECK(out.starts_with("/home/pexectest/.pexec-tmp-"));
    CHECK(out.ends_with("\nshared settings\n"));
    folders.insert(out.substr(0, out.find('\n')));
  }
  CHECK(folders.size() == 4);  // one per job
  // Nothing left on either host: not the job folders, not the basefile (--cleanup).
  CHECK(hosts.on("hn", "ls -A") == ".ssh\n");
  CHECK(hosts.on("h1", "ls -A | grep -c pexec-tmp; ls base.cfg 2>&1 | grep -c \"No such\"") == "0\n1\n");

  // --wd DIR: made if missing, relative to the home.
  r = run_pexec(hosts.args({"-S", "hn", "--wd", "work/here", "pwd", ":::", "x"}));
  CHECK(r.out == "/home/pexectest/work/here\n");
}

TEST_CASE("a file that cannot be sent or brought back fails its job with rsync's reason") {
  SshHosts hosts;
  if (!hosts.running) return;
  ScratchFolder here;
  auto r = run_pexec(hosts.args({"--format", "jsonl", "-S", "h1", "--transfer", "cat {}", ":::", "missing.txt"}));
  CHECK(r.status == 1);
  auto jobs = parse_json_lines(r.out);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["status"] == "error");
  std::string error = jobs[0]["error"];
  CHECK(error.starts_with("--transferfile: rsync to h1 failed: "));
  CHECK(error.find("missing.txt") != std::string::npos);
  CHECK(error.find("No such file") != std::string::npos);

  r = run_pexec(hosts.args({"--format", "jsonl", "-S", "h1", "--return", "{}.out", "true", ":::", "x"}));
  CHECK(r.status == 1);
  jobs = parse_json_lines(r.out);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["status"] == "error");
  error = jobs[0]["error"];
  CHECK(error.starts_with("--return: rsync from h1 failed: "));
  CHECK(error.find("x.out") != std::string::npos);

  r = run_pexec(hosts.args({"-S", "h1", "--tf", "../up.txt", "true", ":::", "x"}));
  CHECK(r.status == 1);
  CHECK(r.err.find("'../up.txt' has .. in its path") != std::string::npos);
  CHECK(run_pexec({"--transfer", "cat", ":::", "x"}).err == "pexec: --transfer applies to -S/--sshlogin hosts only\n");
}

TEST_CASE("jobs here run in --workdir: made if missing, or a new folder per job with ...") {
  ScratchFolder here;
  auto r = run_pexec({"-k", "--wd", "sub/dir", "pwd; touch made-{}", ":::", "1", "2"});
  CHECK(r.status == 0);
  CHECK(r.out == here.path + "/sub/dir\n" + here.path + "/sub/dir\n");
  CHECK(shell_output("ls " + here.path + "/sub/dir").first == "made-1\nmade-2\n");
  r = run_pexec({"--wd", "...", "pwd; touch left-behind", ":::", "1", "2"});
  CHECK(r.status == 0);
  std::istringstream lines(r.out);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  CHECK(first != second);
  CHECK(first.find("/pexec-wd-") != std::string::npos);
  CHECK(::access(first.c_str(), F_OK) != 0);  // removed with what the job left in it
  CHECK(::access(second.c_str(), F_OK) != 0);
}

TEST_CASE("a host cut off by a network partition: its jobs run again on the other host") {
  SshHosts hosts;
  if (!hosts.running || !hosts.start_netns_host()) return;
  // ssh notices a silent server after ServerAliveInterval x ServerAliveCountMax: 2 s here.
  std::vector<std::string> args = {
      "--ssh",     "ssh -F " + hosts.dir + "/ssh_config -o ServerAliveInterval=1 -o ServerAliveCountMax=2",
      "-k",        "--format",
      "jsonl",     "-S",
      "1/h1,1/hn", "sleep 2; echo done $PARALLEL_SSHHOST",
      ":::",       "1",
      "2",         "3",
      "4"};
  PexecProcess pexec(args);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (remote_processes("sleep 2") < 1 && std::chrono::steady_clock::now() < end) pump(pexec);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // hn's job started too
  hosts.set_link("down");
  int status = pexec.wait(90);
  hosts.set_link("up");
  CHECK(status == 0);
  auto jobs = parse_json_lines(pexec.out);
  REQUIRE(jobs.size() == 4);
  int on_h1 = 0;
  for (const auto& job : jobs) {
    CHECK(job["status"] == "ok");
    CHECK(job["attempts"] == 1);
    if (job["host"] == "h1") ++on_h1;
  }
  CHECK(on_h1 == 4);  // hn's job, cut off, ran again on h1, and so did every later one
}

TEST_CASE("--nonall runs COMMAND once on every host, and --onall runs every job on every host") {
  SshHosts hosts;
  if (!hosts.running) return;
  auto r = run_pexec(hosts.args({"-S", "h1,h2,:", "--nonall", "--tag", "echo ${PARALLEL_SSHHOST:-here}"}));
  CHECK(r.status == 0);
  std::multiset<std::string> lines;
  std::istringstream out(r.out);
  for (std::string line; std::getline(out, line);) lines.insert(line);
  CHECK(lines == std::multiset<std::string>{":\there", "h1\th1", "h2\th2"});

  // Each job on each host, in input order with -k (a job's hosts in the order of -S), each host
  // within its own slots: 2 on h1, 1 on h2.
  r = run_pexec(hosts.args({"-k", "-S", "2/h1,1/h2", "--onall", "echo $PARALLEL_SSHHOST", ":::", "a", "b", "c"}));
  CHECK(r.status == 0);
  CHECK(r.out == "h1 a\nh2 a\nh1 b\nh2 b\nh1 c\nh2 c\n");
  // A failure on one host is that job's failure there only.
  r = run_pexec(
      hosts.args({"--format", "jsonl", "-k", "-S", "h1,h2", "--onall", "test $PARALLEL_SSHHOST = {}", ":::", "h1"}));
  CHECK(r.status == 1);
  auto jobs = parse_json_lines(r.out);
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0]["host"] == "h1");
  CHECK(jobs[0]["status"] == "ok");
  CHECK(jobs[1]["host"] == "h2");
  CHECK(jobs[1]["status"] == "failed");

  CHECK(run_pexec(hosts.args({"-S", "h1", "--nonall", "echo", ":::", "x"})).err ==
        "pexec: --nonall reads no input: use --onall to run each job on every host\n");
  CHECK(run_pexec({"--onall", "echo", ":::", "x"}).err == "pexec: --onall applies to -S/--sshlogin hosts only\n");
}
