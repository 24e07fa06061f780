// Jobs as Slurm job steps (--slurm), end to end: each case starts a one-node Slurm cluster of its
// own (tests/fixtures/slurm_cluster.sh: munged, slurmctld and slurmd in a network namespace) and
// stops it by PID. pexec runs inside an allocation made by salloc, as a user runs it. Where the
// fixture cannot run (not root, no Slurm) each case says "skipped".
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon_fixture.hpp"
#include "pexec_process.hpp"
#include "shell_output.hpp"

namespace {

const std::string kFixture = PEXEC_FIXTURES "/slurm_cluster.sh";

struct SlurmCluster : DaemonFixture {
  SlurmCluster() : DaemonFixture(kFixture) {}
  /// `line` (a shell line) run by `salloc -n TASKS` in the cluster; what it prints on stdout.
  std::pair<std::string, int> in_allocation(int tasks, const std::string& line) const {
    write("line.sh", line);
    return shell_output(dir + "/run salloc -Q -n " + std::to_string(tasks) + " sh " + dir + "/line.sh 2>" + dir +
                        "/salloc.err");
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir + "/" + name) << text; }
  std::string path(const std::string& name) const { return dir + "/" + name; }
  /// The job steps of the cluster (squeue -s), one JOBID.STEPID per line; the extern step aside.
  std::string steps() const {
    return shell_output(dir + "/run squeue -s -h -o %i 2>/dev/null | grep -v extern || true").first;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

int shell_status(const nlohmann::json& job) {
  if (!job["exit_code"].is_null()) return job["exit_code"];
  return job["signal"].is_null() ? -1 : 128 + job["signal"].get<int>();
}

}  // namespace

TEST_CASE("--slurm outside an allocation exits 2 with a one-line hint") {
  ::unsetenv("SLURM_JOB_ID");
  auto r = run_pexec({"--slurm", "echo", ":::", "x"});
  CHECK(r.status == 2);
  CHECK(r.out == "");
  CHECK(r.err ==
        "pexec: --slurm runs jobs as steps of a Slurm allocation, and this is none (SLURM_JOB_ID is unset): run it "
        "inside one, as in salloc -n 4 pexec --slurm ...\n");
}

TEST_CASE("a job step gives the exit code, stdout and stderr that the same job gives here, without srun's lines") {
  SlurmCluster cluster;
  if (!cluster.running) return;
  const std::vector<std::string> jobs{
      "echo out; echo err >&2; exit 0",
      "exit 3",
      "kill -TERM $$",
      "kill -KILL $$",
      "no_such_command_pexec_test",
      "printf 'no newline' >&2; exit 3",  // srun's closing line would be glued to it
      "printf '\\000\\001\\377binary'",
      "printf '%s|' 'a b' \"it's\" '\"q\"' '$HOME' '`id`' 'ü'",
      "echo srun: error: not srun, the job >&2",
  };
  std::string list;
  for (const std::string& job : jobs) list += job + "\n";
  cluster.write("jobs", list);
  auto here = run_pexec({"-k", "--format", "jsonl", "-a", cluster.path("jobs")});
  auto [steps_out, status] = cluster.in_allocation(
      2, std::string(PEXEC_BINARY) + " --slurm -k --format jsonl -a " + cluster.path("jobs") + "; echo rc=$? >&2");
  CHECK(read_file(cluster.path("salloc.err")).ends_with("rc=1\n"));
  auto local = parse_json_lines(here.out);
  auto steps = parse_json_lines(steps_out);
  REQUIRE(local.size() == jobs.size());
  REQUIRE(steps.size() == jobs.size());
  std::string node = shell_output("hostname -s").first;
  node.pop_back();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    CAPTURE(jobs[i]);
    CHECK(steps[i]["status"] == local[i]["status"]);
    CHECK(shell_status(steps[i]) == shell_status(local[i]));
    CHECK(steps[i]["stdout"] == local[i]["stdout"]);
    CHECK(steps[i]["stderr"] == local[i]["stderr"]);
    CHECK(steps[i]["host"] == node);
    std::string step = steps[i]["step"];
    CHECK(step.find('.') != std::string::npos);  // JOBID.STEPID
  }
  CHECK(shell_status(steps[1]) == 3);
  CHECK(shell_status(steps[2]) == 143);
  CHECK(shell_status(steps[3]) == 137);
  CHECK(shell_status(steps[4]) == 127);
  CHECK(steps[5]["stderr"] == "no newline");
}

TEST_CASE("a step stopped at its timeout, or by SIGKILL to pexec, leaves no step and no process") {
  SlurmCluster cluster;
  if (!cluster.running) return;
  // Still in the allocation after pexec: its steps, a few seconds on (none left, or the list).
  std::string steps_left = cluster.path("steps-left");
  auto [out, status] = cluster.in_allocation(
      1, std::string(PEXEC_BINARY) + " --slurm --format jsonl -t 1 --grace 1 ::: 'sleep 30; echo pexec_marker_a'\n" +
             "for i in $(seq 50); do squeue -s -h -o %i -j $SLURM_JOB_ID | grep -v extern > " + steps_left + "; [ -s " +
             steps_left + " ] || break; sleep 0.1; done\necho checked >> " + steps_left + "\n");
  auto jobs = parse_json_lines(out);
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0]["status"] == "timeout");
  CHECK(jobs[0]["stdout"] == "");
  CHECK(read_file(steps_left) == "checked\n");
  CHECK(shell_output("pgrep -fc '[p]exec_marker_a' || true").first == "0\n");

  // pexec killed by SIGKILL inside the allocation: its steps go within 10 s.
  std::string pidfile = cluster.path("pexec.pid");
  cluster.write("line.sh", "echo $$ > " + pidfile + "; exec " + PEXEC_BINARY +
                               " --slurm ::: 'sleep 60; echo pexec_marker_b' 'sleep 60; echo pexec_marker_b'\n");
  std::string background =
      "(" + cluster.dir + "/run salloc -Q -n 2 sh " + cluster.path("line.sh") + " >/dev/null 2>&1 &)";
  std::system(background.c_str());
  auto waited = [](auto condition, double seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!condition() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return condition();
  };
  auto two_steps = [&] {
    std::istringstream lines(cluster.steps());
    int count = 0;
    for (std::string line; std::getline(lines, line);) ++count;
    return count == 2;
  };
  REQUIRE(waited(two_steps, 20));
  pid_t pexec = std::stoi(read_file(pidfile));
  ::kill(pexec, SIGKILL);
  CHECK(waited([&] { return cluster.steps().empty(); }, 10));
  CHECK(waited([] { return shell_output("pgrep -fc '[p]exec_marker_b' || true").first == "0\n"; }, 5));
}

TEST_CASE("steps never run more at once than the allocation's tasks, or -j") {
  SlurmCluster cluster;
  if (!cluster.running) return;
  // Each job prints when it started and ended.
  const std::string job = "echo $(date +%s.%N); sleep 0.5; echo $(date +%s.%N)";
  for (const auto& [tasks, options, most] :
       {std::tuple{2, std::string(""), 2}, std::tuple{2, std::string("-j 1"), 1}}) {
    CAPTURE(options);
    auto [out, status] = cluster.in_allocation(
        tasks, std::string(PEXEC_BINARY) + " --slurm --format jsonl " + options + " '" + job + "' ::: 1 2 3 4 5");
    auto jobs = parse_json_lines(out);
    REQUIRE(jobs.size() == 5);
    std::vector<std::pair<double, double>> spans;
    for (const auto& line : jobs) {
      CHECK(line["status"] == "ok");
      std::istringstream text(line["stdout"].get<std::string>());
      double start = 0, end = 0;
      text >> start >> end;
      spans.emplace_back(start, end);
    }
    int highest = 0;
    for (const auto& [start, end] : spans) {
      int running = 0;
      for (const auto& [other_start, other_end] : spans) {
        if (other_start <= start && start < other_end) ++running;
      }
      highest = std::max(highest, running);
    }
    CHECK(highest <= most);
    CHECK(highest >= 1);
  }
}
