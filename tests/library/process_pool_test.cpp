// ProcessPoolExecutor: remote calls, exceptions, map with chunksize, broken pools,
// max_tasks_per_child, initializers, shutdown and terminate/kill_workers, as in CPython's
// test_process_pool.py, test_deadlock.py and test_init.py.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <ranges>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "log_capture.hpp"
#include "pexec/process_pool.hpp"
#include "pexec/wait.hpp"

namespace geometry {
struct Point {
  int x = 0, y = 0;
  friend bool operator==(const Point&, const Point&) = default;
};
void to_json(nlohmann::json& j, const Point& p) { j = {p.x, p.y}; }
void from_json(const nlohmann::json& j, Point& p) {
  p.x = j.at(0).get<int>();
  p.y = j.at(1).get<int>();
}
Point mirror(Point p) { return {p.y, p.x}; }
}  // namespace geometry

namespace encoding {
/// An argument type whose encoding fails, as an object that cannot be pickled.
struct Unencodable {};
void to_json(nlohmann::json&, const Unencodable&) { throw std::runtime_error("cannot encode an Unencodable"); }
void from_json(const nlohmann::json&, Unencodable&) {}
int take_unencodable(Unencodable) { return 1; }
/// A type whose decoding fails for negative values: in the worker (an argument) or in the parent
/// (a result).
struct Undecodable {
  int value = 0;
};
void to_json(nlohmann::json& j, const Undecodable& u) { j = u.value; }
void from_json(const nlohmann::json& j, Undecodable& u) {
  u.value = j.get<int>();
  if (u.value < 0) throw std::runtime_error("cannot decode a negative Undecodable");
}
Undecodable make_undecodable(int value) { return {value}; }
int take_undecodable(Undecodable u) { return u.value; }
}  // namespace encoding

namespace {
int square(int x) { return x * x; }
int worker_pid() { return static_cast<int>(::getpid()); }
int divide(int a, int b) {
  if (b == 0) throw std::domain_error("division by zero");
  return a / b;
}
std::string greet(const std::string& name, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text += "hello " + name + ";";
  return text;
}
void do_nothing() {}
int fail_with_cause() {
  try {
    throw std::logic_error("inner");
  } catch (...) {
    std::throw_with_nested(std::runtime_error("outer"));
  }
}
int die_by_sigkill() {
  ::kill(::getpid(), SIGKILL);
  return 0;
}
int exit_abruptly() { std::_Exit(99); }
double sleep_for(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return seconds;
}
bool initialized = false;
void initialize() { initialized = true; }
void failing_initializer() { throw std::runtime_error("no init for you"); }
bool was_initialized() { return initialized; }
std::string greeting;  // what the initializer was given, in the worker
void initialize_with(std::string text, int times) {
  for (int i = 0; i < times; ++i) greeting += text;
}
std::string initialized_greeting() { return greeting; }
std::string bytes_back(const std::string& s) { return s; }
int append_line(const std::string& path) {
  std::ofstream(path, std::ios::app) << "ran\n";
  return 0;
}
void append_nothing(const std::string& path) { std::ofstream(path, std::ios::app) << "ran\n"; }
}  // namespace

PEXEC_REGISTER(square);
PEXEC_REGISTER(worker_pid);
PEXEC_REGISTER(divide);
PEXEC_REGISTER(greet);
PEXEC_REGISTER(do_nothing);
PEXEC_REGISTER(fail_with_cause);
PEXEC_REGISTER(die_by_sigkill);
PEXEC_REGISTER(exit_abruptly);
PEXEC_REGISTER(sleep_for);
PEXEC_REGISTER(append_line);
PEXEC_REGISTER(append_nothing);
PEXEC_REGISTER(encoding::take_unencodable);
PEXEC_REGISTER(encoding::make_undecodable);
PEXEC_REGISTER(encoding::take_undecodable);
PEXEC_REGISTER(initialize);
PEXEC_REGISTER(failing_initializer);
PEXEC_REGISTER(was_initialized);
PEXEC_REGISTER(initialize_with);
PEXEC_REGISTER(initialized_greeting);
PEXEC_REGISTER(bytes_back);
PEXEC_REGISTER(geometry::mirror);

using pexec::ProcessPoolExecutor;

// CPython's messages; pexec adds how the worker ended (tested below).
const char* const kBrokenFuture =
    "A process in the process pool was terminated abruptly while the future was running or pending.";
const char* const kBrokenPool = "the process pool is not usable anymore";

TEST_CASE("submit runs the call in another process and returns its result") {
  ProcessPoolExecutor pool(2);
  CHECK(pool.submit(square, 7).result(60) == 49);
  CHECK(pool.submit(greet, "pexec", 2).result(60) == "hello pexec;hello pexec;");
  CHECK(pool.submit(worker_pid).result(60) != static_cast<int>(::getpid()));
  CHECK(pool.submit(geometry::mirror, geometry::Point{1, 2}).result(60) == geometry::Point{2, 1});
  CHECK_NOTHROW(pool.submit(do_nothing).result(60));
  std::string binary("a\xff\x00z", 4);  // any bytes survive the trip
  CHECK(pool.submit(bytes_back, binary).result(60) == binary);
}

TEST_CASE("a task's exception comes back with its type name and message") {
  ProcessPoolExecutor pool(1);
  auto f = pool.submit(divide, 1, 0);
  try {
    f.result(60);
    FAIL("expected RemoteError");
  } catch (const pexec::RemoteError& e) {
    CHECK(e.remote_type() == "std::domain_error");
    CHECK(e.remote_message() == "division by zero");
    CHECK(std::string(e.what()) == "std::domain_error: division by zero");
  }
  CHECK(pool.submit(divide, 6, 3).result(60) == 2);  // the worker survives
}

TEST_CASE("ProcessPoolExecutorTest.test_traceback: the worker's traceback text, with the exception's causes") {
  ProcessPoolExecutor pool(1);
  try {
    pool.submit(divide, 1, 0).result(60);
    FAIL("expected RemoteError");
  } catch (const pexec::RemoteError& e) {
    CHECK(std::regex_match(
        e.remote_traceback(),
        std::regex("Traceback \\(worker pid:\\d+, task divide\\):\nstd::domain_error: division by zero\n")));
  }
  try {
    pool.submit(fail_with_cause).result(60);
    FAIL("expected RemoteError");
  } catch (const pexec::RemoteError& e) {
    CHECK(e.remote_type() == "std::runtime_error");  // not libstdc++'s nested-exception wrapper
    CHECK(e.remote_message() == "outer");
    std::string traceback = e.remote_traceback();
    CHECK(traceback.ends_with(
        "task fail_with_cause):\nstd::logic_error: inner\n\nThe above exception was the direct cause of the "
        "following exception:\n\nstd::runtime_error: outer\n"));
  }
}

TEST_CASE("constructor and submit validation") {
  CHECK_THROWS_WITH_AS(ProcessPoolExecutor(0), "max_workers must be greater than 0", std::invalid_argument);
  CHECK_THROWS_WITH_AS(ProcessPoolExecutor(1, 0), "max_tasks_per_child must be >= 1", std::invalid_argument);
  ProcessPoolExecutor pool;
  CHECK(pool.max_workers() == pexec::process_cpu_count());
  auto unregistered = +[](int x) { return x; };
  CHECK_THROWS_AS(pool.submit(unregistered, 1), std::invalid_argument);
}

TEST_CASE("map keeps input order for any chunksize and rejects chunksize 0") {
  ProcessPoolExecutor pool(2);
  std::vector<int> inputs(100);
  for (int i = 0; i < 100; ++i) inputs[i] = i;
  std::vector<int> expected;
  for (int i : inputs) expected.push_back(i * i);
  for (int chunksize : {1, 6, 40, 50}) {
    CAPTURE(chunksize);
    std::vector<int> results;
    for (int r : pool.map(square, inputs, 60, chunksize)) results.push_back(r);
    CHECK(results == expected);
  }
  CHECK_THROWS_WITH_AS(pool.map(square, inputs, {}, 0), "chunksize must be >= 1.", std::invalid_argument);
}

TEST_CASE("ProcessPoolExecutorTest.test_map_submits_without_iteration: results dropped unread, every task runs") {
  std::string path = "/tmp/pexec-map-unread-" + std::to_string(::getpid());
  std::remove(path.c_str());
  ProcessPoolExecutor pool(2);
  pool.map(append_line, std::vector<std::string>(10, path));  // the results are dropped at once
  pool.shutdown(true);
  std::ifstream file(path);
  int lines = 0;
  for (std::string line; std::getline(file, line);) ++lines;
  CHECK(lines == 10);
  std::remove(path.c_str());
}

TEST_CASE("ExecutorDeadlockTest.test_error_at_task_pickle: an argument that cannot be encoded fails its future") {
  ProcessPoolExecutor pool(1);
  pexec::Future<int> f;
  CHECK_NOTHROW(f = pool.submit(encoding::take_unencodable, encoding::Unencodable{}));
  CHECK_THROWS_WITH_AS(f.result(60), "cannot encode an Unencodable", std::runtime_error);
  CHECK(pool.submit(square, 3).result(60) == 9);  // the pool keeps working
  pool.shutdown();
  CHECK_THROWS_WITH_AS(pool.submit(encoding::take_unencodable, encoding::Unencodable{}),
                       "cannot schedule new futures after shutdown", std::runtime_error);
}

TEST_CASE("a task the worker cannot decode, or a result the parent cannot decode, fails only its future") {
  // CPython breaks the whole pool for these (BrokenProcessPool); pexec fails the one future.
  ProcessPoolExecutor pool(1);
  auto bad_argument = pool.submit(encoding::take_undecodable, encoding::Undecodable{-5});
  CHECK_THROWS_WITH_AS(bad_argument.result(60), doctest::Contains("cannot decode a negative Undecodable"),
                       pexec::RemoteError);
  auto bad_result = pool.submit(encoding::make_undecodable, -1);
  CHECK_THROWS_WITH_AS(bad_result.result(60), "cannot decode a negative Undecodable", std::runtime_error);
  CHECK(pool.submit(encoding::take_undecodable, encoding::Undecodable{7}).result(60) == 7);
  CHECK(pool.submit(square, 4).result(60) == 16);
}

TEST_CASE("map of a function that returns nothing gives std::monostate results, in chunks too") {
  std::string path = "/tmp/pexec-map-void-" + std::to_string(::getpid());
  std::remove(path.c_str());
  ProcessPoolExecutor pool(2);
  std::size_t count = 0;
  for (std::monostate r : pool.map(append_nothing, std::vector<std::string>(5, path), 60, 2)) {
    (void)r;
    ++count;
  }
  CHECK(count == 5);
  std::ifstream file(path);
  int lines = 0;
  for (std::string line; std::getline(file, line);) ++lines;
  CHECK(lines == 5);
  std::remove(path.c_str());
}

TEST_CASE("map with tuples, and a failure fails its whole chunk") {
  ProcessPoolExecutor pool(1);
  std::vector<std::tuple<int, int>> pairs{{5, 2}, {5, 3}, {5, 5}, {5, 0}};
  auto results = pool.map(divide, pairs, 60, 2);
  CHECK(*results.next() == 2);
  CHECK(*results.next() == 1);
  CHECK_THROWS_AS(results.next(), pexec::RemoteError);  // the second chunk holds 5/5 and 5/0
  CHECK_FALSE(results.next().has_value());
}

TEST_CASE("map with buffersize reads an endless input lazily") {
  ProcessPoolExecutor pool(2);
  std::vector<int> results;
  for (int r : pool.map(square, std::views::iota(1), 60, 3, 2)) {
    results.push_back(r);
    if (results.size() == 10) break;
  }
  CHECK(results == std::vector<int>{1, 4, 9, 16, 25, 36, 49, 64, 81, 100});
}

TEST_CASE("a killed worker breaks the pool: every unfinished future fails and submit throws") {
  ProcessPoolExecutor pool(2);
  auto slow = pool.submit(sleep_for, 30.0);
  auto killer = pool.submit(die_by_sigkill);
  std::vector<pexec::Future<int>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(pool.submit(square, i));
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(killer.result(60), doctest::Contains(kBrokenFuture), pexec::BrokenProcessPool);
  CHECK_THROWS_WITH_AS(slow.result(60), doctest::Contains(kBrokenFuture), pexec::BrokenProcessPool);
  for (auto& f : queued) CHECK_THROWS_AS(f.result(60), pexec::BrokenProcessPool);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));  // nothing waited for the slow one
  CHECK_THROWS_WITH_AS(pool.submit(square, 1),
                       "A child process terminated abruptly by signal SIGKILL, the process pool is not usable anymore",
                       pexec::BrokenProcessPool);
  try {
    killer.result(0);
  } catch (const pexec::BrokenProcessPool& e) {
    CHECK(e.cause() == "A worker process terminated abruptly by signal SIGKILL");
    CHECK(std::string(e.what()).ends_with("(A worker process terminated abruptly by signal SIGKILL)"));
  }
  try {
    pool.submit(square, 1);
  } catch (const std::runtime_error&) {  // BrokenExecutor is a runtime_error
  }
  // One exception object per future.
  CHECK(killer.exception() != slow.exception());
}

TEST_CASE("ProcessPoolExecutorTest.test_traceback_when_child_process_terminates_abruptly: the exit code is named") {
  ProcessPoolExecutor pool(1);
  auto f = pool.submit(exit_abruptly);
  CHECK_THROWS_WITH_AS(f.result(60), doctest::Contains("terminated abruptly with exit code 99"),
                       pexec::BrokenProcessPool);
  try {
    f.result(0);
  } catch (const pexec::BrokenProcessPool& e) {
    CHECK(e.cause() == "A worker process terminated abruptly with exit code 99");
  }
  pool.shutdown(true);  // does not hang
}

TEST_CASE("max_tasks_per_child replaces workers: pids a,a,b,b,c for 1 worker and 2 tasks per child") {
  ProcessPoolExecutor pool(1, 2);
  std::vector<pexec::Future<int>> fs;
  for (int i = 0; i < 5; ++i) fs.push_back(pool.submit(worker_pid));
  std::vector<int> pids;
  for (auto& f : fs) pids.push_back(f.result(60));
  CHECK(pids[0] == pids[1]);
  CHECK(pids[2] == pids[3]);
  CHECK(pids[1] != pids[2]);
  CHECK(pids[3] != pids[4]);
  CHECK(pids[0] != pids[4]);
}

TEST_CASE("max_tasks_per_child with queued tasks finishes them (no CPython gh-115634 deadlock)") {
  for (auto [workers, per_child, tasks] : {std::tuple{1, 2, 6}, std::tuple{2, 2, 8}, std::tuple{3, 1, 6}}) {
    CAPTURE(workers);
    ProcessPoolExecutor pool(workers, per_child);
    std::vector<pexec::Future<int>> fs;
    for (int i = 0; i < tasks; ++i) fs.push_back(pool.submit(square, i));
    for (int i = 0; i < tasks; ++i) CHECK(fs[i].result(60) == i * i);
    std::set<int> pids;
    for (int i = 0; i < tasks; ++i) pids.insert(pool.submit(worker_pid).result(60));
    CHECK(pids.size() >= static_cast<std::size_t>(tasks / per_child));
  }
}

TEST_CASE("the initializer runs in each worker before its tasks") {
  ProcessPoolExecutor pool(2, {}, initialize);
  CHECK_FALSE(initialized);
  for (int i = 0; i < 4; ++i) CHECK(pool.submit(was_initialized).result(60));
}

TEST_CASE("initargs reach the initializer once in each worker, as Python's initargs") {
  ProcessPoolExecutor pool(2, 2, initialize_with, std::string("hi "), 2);  // workers are replaced
  for (int i = 0; i < 6; ++i) CHECK(pool.submit(initialized_greeting).result(60) == "hi hi ");
  CHECK(greeting.empty());  // this process never ran it
}

TEST_CASE("a failing initializer breaks the pool") {
  LogCapture log;  // the worker logs to its own stderr; the parent stays quiet
  ProcessPoolExecutor pool(1, {}, failing_initializer);
  auto f = pool.submit(square, 2);
  CHECK_THROWS_WITH_AS(f.result(60), doctest::Contains(kBrokenFuture), pexec::BrokenProcessPool);
  CHECK_THROWS_WITH_AS(pool.submit(square, 2), doctest::Contains(kBrokenPool), pexec::BrokenProcessPool);
}

TEST_CASE("shutdown: queued work runs, later submits fail, cancel_futures cancels the queue") {
  {
    ProcessPoolExecutor pool(2);
    std::vector<pexec::Future<int>> fs;
    for (int i = 0; i < 10; ++i) fs.push_back(pool.submit(square, i));
    pool.shutdown();
    for (int i = 0; i < 10; ++i) CHECK(fs[i].result(0) == i * i);
    CHECK_THROWS_WITH_AS(pool.submit(square, 1), "cannot schedule new futures after shutdown", std::runtime_error);
    CHECK_NOTHROW(pool.shutdown());
  }
  ProcessPoolExecutor pool(1);
  auto running = pool.submit(sleep_for, 0.5);
  std::vector<pexec::Future<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit(square, i));
  while (!running.running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  pool.shutdown(true, true);
  CHECK(running.result(0) == 0.5);
  for (auto& f : queued) CHECK(f.cancelled());
}

TEST_CASE("a far-back pending future can be cancelled") {
  ProcessPoolExecutor pool(1);
  auto busy = pool.submit(sleep_for, 0.3);
  std::vector<pexec::Future<int>> fs;
  for (int i = 0; i < 6; ++i) fs.push_back(pool.submit(square, i));
  CHECK(fs.back().cancel());
  CHECK(busy.result(60) == 0.3);
  for (int i = 0; i < 5; ++i) CHECK(fs[i].result(60) == i * i);
  CHECK_THROWS_AS(fs.back().result(60), pexec::CancelledError);
}

TEST_CASE("terminate_workers and kill_workers stop running tasks and the pool") {
  for (bool kill : {false, true}) {
    CAPTURE(kill);
    ProcessPoolExecutor pool(1);
    auto running = pool.submit(sleep_for, 30.0);
    auto queued = pool.submit(square, 3);
    while (!running.running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto start = std::chrono::steady_clock::now();
    kill ? pool.kill_workers() : pool.terminate_workers();
    CHECK_THROWS_AS(running.result(60), pexec::BrokenProcessPool);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
    CHECK(queued.cancelled());
    CHECK_THROWS_AS(pool.submit(square, 1), std::runtime_error);
  }
  ProcessPoolExecutor unused(1);
  CHECK_NOTHROW(unused.terminate_workers());  // no worker yet: nothing to do
  ProcessPoolExecutor broken(1);
  CHECK_THROWS_AS(broken.submit(die_by_sigkill).result(60), pexec::BrokenProcessPool);
  CHECK_NOTHROW(broken.kill_workers());
}

TEST_CASE("wait and as_completed work with process pool futures") {
  ProcessPoolExecutor pool(2);
  std::vector<pexec::Future<int>> fs;
  for (int i = 0; i < 6; ++i) fs.push_back(pool.submit(square, i));
  int count = 0;
  for (const auto& f : pexec::as_completed(fs, 60)) {
    CHECK(f.done());
    ++count;
  }
  CHECK(count == 6);
  auto [done, not_done] = pexec::wait(fs, 60);
  CHECK(done.size() == 6);
}
