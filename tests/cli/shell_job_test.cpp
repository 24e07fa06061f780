// One shell job: exit status, signals, captured output, timeouts that take the whole process
// group, the job's environment (stdin /dev/null, only fds 0-2), and jobs that cannot start.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "process_alive.hpp"
#include "shell_job.hpp"

using namespace pexec::cli;

namespace {
JobResult run(const std::string& line, std::optional<double> timeout = {}, double grace = 1.0) {
  return run_shell_job(JobSpec{1, 1, line, line, JobKind::shell, 1, {}, {}, {}, {}},
                       RunSettings{timeout, grace, {}, {}, {}, {}, {}}, "test");
}
}  // namespace

TEST_CASE("exit status and captured stdout and stderr") {
  JobResult ok = run("echo out; echo err >&2");
  CHECK(ok.status == JobStatus::ok);
  CHECK(*ok.exit_code == 0);
  CHECK_FALSE(ok.signal);
  CHECK(ok.out == "out\n");
  CHECK(ok.err == "err\n");
  CHECK(ok.command == "echo out; echo err >&2");
  CHECK(ok.start_ms > 0);
  JobResult failed = run("exit 3");
  CHECK(failed.status == JobStatus::failed);
  CHECK(*failed.exit_code == 3);
}

TEST_CASE("a job killed by a signal reports the signal, not an exit code") {
  JobResult killed = run("kill -KILL $$");
  CHECK(killed.status == JobStatus::failed);
  CHECK_FALSE(killed.exit_code);
  CHECK(*killed.signal == SIGKILL);
}

TEST_CASE("large stdout and stderr are both captured whole, stderr first") {
  JobResult big = run("head -c 2000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero | tr '\\0' o");
  CHECK(big.status == JobStatus::ok);
  CHECK(big.err.size() == 2000000);
  CHECK(big.out.size() == 3000000);
  CHECK(big.out.to_string().find_first_not_of('o') == std::string::npos);
}

TEST_CASE("a timeout stops the whole process tree") {
  auto start = std::chrono::steady_clock::now();
  JobResult r = run("sh -c 'sleep 97.25 & sleep 97.25'", 0.3);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  CHECK(r.status == JobStatus::timeout);
  CHECK(*r.signal == SIGTERM);
  CHECK_FALSE(process_alive("sleep 97.25"));
}

TEST_CASE("a job that ignores SIGTERM gets SIGKILL after the grace period") {
  JobResult r = run("trap '' TERM; sleep 96.5; sleep 96.5", 0.2, 0.2);
  CHECK(r.status == JobStatus::timeout);
  CHECK(*r.signal == SIGKILL);
  CHECK_FALSE(process_alive("sleep 96.5"));
}

TEST_CASE("a background child that keeps the output open is stopped at the timeout") {
  JobResult r = run("sleep 95.5 & echo started", 0.3);
  CHECK(r.status == JobStatus::timeout);
  CHECK(r.out.to_string() == "started\n");
  CHECK_FALSE(process_alive("sleep 95.5"));
}

TEST_CASE("jobs read /dev/null and inherit only fds 0, 1 and 2") {
  JobResult input = run("cat");
  CHECK(input.status == JobStatus::ok);
  CHECK(input.out.empty());
  JobResult fds = run("ls /proc/self/fd");  // the ls process itself adds the fd of the directory
  CHECK(fds.out == "0\n1\n2\n3\n");
}

TEST_CASE("the job leads its own process group") {
  JobResult r = run("ps -o pid= -o pgid= -p $$");
  int pid = 0, pgid = 0;
  REQUIRE(std::sscanf(r.out.to_string().c_str(), "%d %d", &pid, &pgid) == 2);
  CHECK(pid == pgid);
}

TEST_CASE("commands run directly or through the shell give the same result") {
  JobResult direct = run("printf %s 'a b'");
  CHECK(direct.out == "a b");
  JobResult missing = run("no-such-command-here x");
  CHECK(missing.status == JobStatus::failed);
  CHECK(*missing.exit_code == 127);
  CHECK(missing.err.to_string().find("not found") != std::string::npos);
}

TEST_CASE("the job's environment has PARALLEL_SEQ and PARALLEL_JOBSLOT, as GNU parallel sets them") {
  ::setenv("PARALLEL_SEQ", "stale", 1);  // pexec's own is replaced, not doubled
  JobResult r = run_shell_job(JobSpec{4,
                                      3,
                                      "x",
                                      "echo $PARALLEL_SEQ $PARALLEL_JOBSLOT; env | grep -c ^PARALLEL_SEQ=",
                                      JobKind::shell,
                                      1,
                                      {},
                                      {},
                                      {},
                                      {}},
                              RunSettings{}, "w");
  ::unsetenv("PARALLEL_SEQ");
  CHECK(r.out.to_string() == "4 3\n1\n");
  CHECK(r.seq == 4);
  CHECK(r.input == "x");
  CHECK(r.worker == "w");
}
