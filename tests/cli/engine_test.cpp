// The engine, driven step by step against a fake executor and a pipe as input (as ninja's
// build_test drives its builder against a FakeCommandRunner): no process is started.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <tuple>
#include <vector>

#include "engine.hpp"

using namespace pexec;
using namespace pexec::cli;

namespace {

/// Records what the engine asks for; the test completes the jobs by hand.
class FakeExecutor final : public JobExecutor {
 public:
  explicit FakeExecutor(int workers) : workers_(workers) {}
  Future<JobResult> submit(const JobSpec& spec) override {
    submitted.push_back(spec);
    futures.emplace_back();
    return futures.back();
  }
  void flush() override {}
  void stop(StopLevel level) override {
    levels.push_back(level);
    // Like the real pools: a stop that terminates ends the running jobs as "killed".
    if (level < StopLevel::terminating) return;
    for (std::size_t i = 0; i < futures.size(); ++i) {
      if (!futures[i].done()) finish(i, JobStatus::killed);
    }
  }
  int workers() const override { return workers_; }

  void finish(std::size_t index, JobStatus status) {
    JobResult result = started_result(submitted[index], "fake");
    result.status = status;
    result.out = submitted[index].input + "\n";
    futures[index].set_result(result);
  }

  std::vector<JobSpec> submitted;
  std::vector<Future<JobResult>> futures;
  std::vector<StopLevel> levels;

 private:
  int workers_;
};

/// Keeps the reports in memory, in the order the engine gives them.
class RecordingReporter final : public Reporter {
 public:
  RecordingReporter() : Reporter(STDOUT_FILENO) {}
  void report(const JobResult& result) override {
    lines.push_back(std::to_string(result.seq) + " " + nlohmann::json(result.status).get<std::string>());
  }
  std::vector<std::string> lines;
};

/// A pipe read as the job list ("/proc/self/fd/N"), written by the test.
struct PipeInput {
  int fds[2];
  PipeInput() { REQUIRE(pipe(fds) == 0); }
  ~PipeInput() {
    close(fds[0]);
    if (fds[1] >= 0) close(fds[1]);
  }
  JobListReader reader() {
    std::vector<InputSource> sources;
    sources.push_back(InputSource::from_file("/proc/self/fd/" + std::to_string(fds[0]), "\n"));
    return JobListReader(std::move(sources), {}, InputRules{});
  }
  void write_text(const std::string& text) {
    REQUIRE(::write(fds[1], text.data(), text.size()) == ssize_t(text.size()));
  }
  void close_writer() {
    close(fds[1]);
    fds[1] = -1;
  }
};

sigset_t test_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);  // stops the run, as SIGTERM would
  sigaddset(&set, SIGUSR1);  // lists the running jobs
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

/// An engine with `options` over a FakeExecutor of `workers` slots and a RecordingReporter.
struct EngineUnderTest {
  EngineUnderTest(Options run_options, int workers)
      : options(std::move(run_options)), executor(workers), engine(options, executor, reporter, test_signals()) {}

  /// Turns the loop until `count` jobs were submitted (the input holds them).
  void run_until_submitted(JobListReader& reader, std::size_t count) {
    while (true) {
      REQUIRE(engine.advance(reader));
      if (executor.submitted.size() == count) return;
      engine.wait_for_events(reader);
    }
  }

  Options options;
  FakeExecutor executor;
  RecordingReporter reporter;
  Engine engine;
};

}  // namespace

TEST_CASE("a job starts only in a free slot, and none after first-exception is satisfied") {
  Options options;
  options.halt = Halt::parse("now,fail=1");  // -w first-exception
  EngineUnderTest run(options, 1);
  auto [executor, reporter, engine] = std::tie(run.executor, run.reporter, run.engine);  // references
  PipeInput input;
  JobListReader reader = input.reader();

  input.write_text("ok\nfail\n");
  CHECK(engine.advance(reader));  // nothing read yet: the engine waits for the pipe
  CHECK(executor.submitted.empty());
  engine.wait_for_events(reader);
  CHECK(engine.advance(reader));
  REQUIRE(executor.submitted.size() == 1);  // one slot: one job, "fail" waits in the reader
  CHECK(executor.submitted[0].input == "ok");

  executor.finish(0, JobStatus::ok);
  engine.wait_for_events(reader);
  CHECK(engine.advance(reader));
  REQUIRE(executor.submitted.size() == 2);
  CHECK(reporter.lines == std::vector<std::string>{"1 ok"});

  input.write_text("never\nnor-this\n");
  executor.finish(1, JobStatus::failed);
  engine.wait_for_events(reader);  // the completion comes first: the stop is decided before any start
  CHECK_FALSE(engine.advance(reader));
  CHECK(executor.submitted.size() == 2);  // "never" was not started...
  CHECK(executor.levels == std::vector<StopLevel>{StopLevel::terminating});
  // ...and whatever was read is reported cancelled, once.
  CHECK(reporter.lines.size() >= 2);
  CHECK(reporter.lines[1] == "2 failed");
  for (std::size_t i = 2; i < reporter.lines.size(); ++i) CHECK(reporter.lines[i].ends_with(" cancelled"));
  CHECK(engine.finish() == 1);
}

TEST_CASE("the input ends the run once every job is reported, -k reports in input order") {
  Options options;
  options.keep_order = true;
  EngineUnderTest run(options, 2);
  auto [executor, reporter, engine] = std::tie(run.executor, run.reporter, run.engine);  // references
  PipeInput input;
  JobListReader reader = input.reader();
  input.write_text("a\nb\n");
  input.close_writer();
  run.run_until_submitted(reader, 2);
  executor.finish(1, JobStatus::ok);
  engine.wait_for_events(reader);
  CHECK(engine.advance(reader));
  CHECK(reporter.lines.empty());  // job 2 waits for job 1
  executor.finish(0, JobStatus::ok);
  engine.wait_for_events(reader);
  // The pipe's end may still be news; the run ends once it is read.
  while (engine.advance(reader)) engine.wait_for_events(reader);
  CHECK(reporter.lines == std::vector<std::string>{"1 ok", "2 ok"});
  CHECK(engine.finish() == 0);
}

TEST_CASE("the deadline stops a run whose input never ends, and wins over a drain") {
  Options options;
  options.deadline = 0.05;
  options.let_running_finish = true;
  options.halt = Halt::parse("soon,fail=1");  // -w first-exception --let-running-finish
  EngineUnderTest run(options, 2);
  auto [executor, reporter, engine] = std::tie(run.executor, run.reporter, run.engine);  // references
  PipeInput input;                                                                       // never closed: a tail -f
  JobListReader reader = input.reader();
  input.write_text("slow\nfails\n");
  run.run_until_submitted(reader, 2);
  executor.finish(1, JobStatus::failed);
  engine.wait_for_events(reader);
  CHECK(engine.advance(reader));  // draining: job 1 may finish
  CHECK(engine.level() == StopLevel::draining);
  engine.wait_for_events(reader);  // returns at the deadline
  CHECK(engine.level() == StopLevel::terminating);
  CHECK(engine.advance(reader));  // job 1 is still out: its end comes as a completion
  engine.wait_for_events(reader);
  CHECK_FALSE(engine.advance(reader));
  CHECK(reporter.lines == std::vector<std::string>{"2 failed", "1 killed"});
  CHECK(engine.finish() == 124);
}

TEST_CASE("a signal stops the run, each further one raises the stop level") {
  Options options;
  options.let_running_finish = true;
  EngineUnderTest run(options, 1);
  auto [executor, reporter, engine] = std::tie(run.executor, run.reporter, run.engine);  // references
  JobListReader reader = JobListReader::from_items({"a", "b"});
  CHECK(engine.advance(reader));
  REQUIRE(executor.submitted.size() == 1);
  ::kill(::getpid(), SIGUSR1);  // lists the running jobs, stops nothing
  engine.wait_for_events(reader);
  CHECK(engine.level() == StopLevel::running);
  ::kill(::getpid(), SIGUSR2);  // blocked: it waits on the engine's signalfd
  engine.wait_for_events(reader);
  CHECK(engine.level() == StopLevel::draining);  // --let-running-finish: the first one drains
  CHECK(engine.advance(reader));
  ::kill(::getpid(), SIGUSR2);
  engine.wait_for_events(reader);
  CHECK(engine.level() == StopLevel::terminating);  // the second one stops the running job
  CHECK(engine.advance(reader));
  engine.wait_for_events(reader);
  CHECK_FALSE(engine.advance(reader));
  CHECK(reporter.lines == std::vector<std::string>{"2 cancelled", "1 killed"});
  CHECK(engine.finish() == 128 + SIGUSR2);
}

TEST_CASE("the engine makes each command line, in the lowest free slot") {
  Options options;
  options.command = {"echo", "{%}", "{#}", "{}"};
  EngineUnderTest run(options, 3);
  auto [executor, reporter, engine] = std::tie(run.executor, run.reporter, run.engine);  // references
  JobListReader reader = JobListReader::from_items({"a", "b", "c", "d b", "e"});
  run.run_until_submitted(reader, 3);
  CHECK(executor.submitted[0].command == "echo 1 1 a");
  CHECK(executor.submitted[2].command == "echo 3 3 c");
  executor.finish(1, JobStatus::ok);  // slot 2 is free again
  engine.wait_for_events(reader);
  run.run_until_submitted(reader, 4);
  CHECK(executor.submitted[3].slot == 2);
  CHECK(executor.submitted[3].command == "echo 2 4 'd b'");
  CHECK(executor.submitted[3].input == "d b");
  executor.finish(0, JobStatus::ok);
  engine.wait_for_events(reader);
  run.run_until_submitted(reader, 5);
  CHECK(executor.submitted[4].slot == 1);
}
