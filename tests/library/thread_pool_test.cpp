// ThreadPoolExecutor: submit, map (order, timeout, cancellation, buffersize), shutdown, thread
// creation and names, initializer, as in CPython's test_thread_pool.py, executor.py,
// test_shutdown.py and test_init.py.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <ranges>
#include <regex>
#include <set>
#include <stdexcept>
#include <thread>
#include <variant>
#include <vector>

#include "event.hpp"
#include "log_capture.hpp"
#include "pexec/thread_pool.hpp"
#include "pexec/wait.hpp"

using pexec::ThreadPoolExecutor;

TEST_CASE("submit returns a future of the call's result, exceptions come back unchanged") {
  ThreadPoolExecutor pool(2);
  auto product = pool.submit([](int a, int b) { return a * b; }, 21, 2);
  CHECK(product.result(30) == 42);
  auto failing = pool.submit([]() -> int { throw std::out_of_range("index 3"); });
  CHECK_THROWS_WITH_AS(failing.result(30), "index 3", std::out_of_range);
  auto nothing = pool.submit([] {});
  CHECK_NOTHROW(nothing.result(30));
  auto moved = pool.submit([](std::unique_ptr<int> p) { return *p; }, std::make_unique<int>(5));
  CHECK(moved.result(30) == 5);
}

TEST_CASE("max_workers must be positive, the default is min(32, cpus + 4)") {
  CHECK_THROWS_WITH_AS(ThreadPoolExecutor(0), "max_workers must be greater than 0", std::invalid_argument);
  CHECK_THROWS_AS(ThreadPoolExecutor(-1), std::invalid_argument);
  ThreadPoolExecutor pool;
  CHECK(pool.max_workers() == std::min(32, pexec::process_cpu_count() + 4));
}

TEST_CASE("submit after shutdown raises") {
  ThreadPoolExecutor pool(1);
  pool.shutdown();
  CHECK_THROWS_WITH_AS(pool.submit([] { return 1; }), "cannot schedule new futures after shutdown", std::runtime_error);
  CHECK_NOTHROW(pool.shutdown());  // twice is fine
}

TEST_CASE("threads are created on demand and reused when idle") {
  ThreadPoolExecutor pool(4);
  for (int i = 0; i < 3; ++i) CHECK(pool.submit([] { return 1; }).result(30) == 1);
  CHECK(pool.thread_count() == 1);
}

TEST_CASE("a saturated pool has exactly max_workers threads") {
  ThreadPoolExecutor pool(4);
  Event release;
  std::vector<pexec::Future<bool>> fs;
  for (int i = 0; i < 60; ++i) fs.push_back(pool.submit([&] { return release.wait(); }));
  CHECK(pool.thread_count() == 4);
  release.set();
  for (auto& f : fs) CHECK(f.result(30));
}

TEST_CASE("thread names use the prefix, or ThreadPoolExecutor-N, and an index") {
  {
    ThreadPoolExecutor pool(3, "SpecialPool");
    Event all_started;
    std::atomic<int> started{0};
    std::vector<pexec::Future<std::string>> fs;
    // Each call waits until all three run, so three threads must exist.
    for (int i = 0; i < 3; ++i)
      fs.push_back(pool.submit([&] {
        if (++started == 3) all_started.set();
        all_started.wait();
        return pexec::current_worker_name();
      }));
    std::set<std::string> names;
    for (auto& f : fs) names.insert(f.result(30));
    CHECK(names == std::set<std::string>{"SpecialPool_0", "SpecialPool_1", "SpecialPool_2"});
  }
  ThreadPoolExecutor unnamed(1);
  std::string name = unnamed.submit([] { return pexec::current_worker_name(); }).result(30);
  CHECK(std::regex_match(name, std::regex(R"(ThreadPoolExecutor-\d+_0)")));
  CHECK(pexec::current_worker_name().empty());
}

TEST_CASE("queued calls start in submission order") {
  ThreadPoolExecutor pool(1);
  std::mutex mutex;
  std::vector<int> order;
  std::vector<pexec::Future<void>> fs;
  for (int i = 0; i < 20; ++i)
    fs.push_back(pool.submit([&, i] {
      std::lock_guard lock(mutex);
      order.push_back(i);
    }));
  pool.shutdown();
  std::vector<int> expected(20);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(order == expected);
}

TEST_CASE("shutdown(wait) runs queued work to completion") {
  ThreadPoolExecutor pool(5);
  std::vector<pexec::Future<int>> fs;
  for (int i = 0; i < 50; ++i)
    fs.push_back(pool.submit([i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return i;
    }));
  pool.shutdown(true);
  for (int i = 0; i < 50; ++i) CHECK(fs[i].result(0) == i);
}

TEST_CASE("shutdown(cancel_futures) cancels what has not started and lets running work finish") {
  ThreadPoolExecutor pool(1);
  Event started, release;
  auto running = pool.submit([&] {
    started.set();
    release.wait();
    return 1;
  });
  std::vector<pexec::Future<int>> queued;
  for (int i = 0; i < 10; ++i) queued.push_back(pool.submit([] { return 2; }));
  REQUIRE(started.wait());
  pool.shutdown(false, true);  // cancels the queue while the only worker is still busy
  release.set();
  pool.shutdown(true);  // and waits for the running call
  CHECK(running.result(0) == 1);
  for (auto& f : queued) CHECK(f.cancelled());
  // Notified, so wait() sees them as done (the reference's Q1 recommendation).
  auto [done, not_done] = pexec::wait(queued, 1);
  CHECK(done.size() == queued.size());
}

TEST_CASE("ThreadPoolExecutorTest.test_cancel_futures: some calls started, the rest cancelled, none left pending") {
  ThreadPoolExecutor pool(5);
  std::vector<pexec::Future<void>> fs;
  for (int i = 0; i < 50; ++i) {
    fs.push_back(pool.submit([] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); }));
  }
  pool.shutdown(true, true);
  int cancelled = 0, finished = 0;
  for (auto& f : fs) {
    if (f.cancelled()) {
      ++cancelled;
      continue;
    }
    CHECK(f.done());
    CHECK_FALSE(f.exception());
    ++finished;
  }
  CHECK(cancelled > 20);
  CHECK(finished > 0);  // the threads started by the submits had taken work
}

TEST_CASE("shutdown right after cancelling a submitted call does not hang") {
  ThreadPoolExecutor pool(1);
  pool.submit([] { return 1; }).cancel();
  pool.shutdown(true);
  CHECK(pool.thread_count() <= 1);
}

TEST_CASE("a cancelled queued future is skipped and becomes CANCELLED_AND_NOTIFIED") {
  ThreadPoolExecutor pool(1);
  Event release;
  auto busy = pool.submit([&] { return release.wait(); });
  std::atomic<bool> ran{false};
  auto second = pool.submit([&] { ran = true; });
  CHECK(second.cancel());
  release.set();
  busy.result(30);
  pool.shutdown();
  CHECK_FALSE(ran);
  CHECK(second.state() == pexec::FutureState::CANCELLED_AND_NOTIFIED);
}

TEST_CASE("the initializer runs in every worker before its tasks") {
  thread_local bool initialized = false;
  ThreadPoolExecutor pool(3, "", [] { initialized = true; });
  std::vector<pexec::Future<bool>> fs;
  for (int i = 0; i < 10; ++i) fs.push_back(pool.submit([] { return initialized; }));
  for (auto& f : fs) CHECK(f.result(30));
}

TEST_CASE("a failing initializer breaks the pool") {
  LogCapture log;
  ThreadPoolExecutor pool(2, "", [] { throw std::runtime_error("init failed"); });
  const std::string message = "A thread initializer failed, the thread pool is not usable anymore";
  bool saw_broken = false;
  try {
    auto f = pool.submit([] { return 1; });
    CHECK_THROWS_WITH_AS(f.result(30), message.c_str(), pexec::BrokenThreadPool);
    saw_broken = true;
  } catch (const pexec::BrokenExecutor& e) {
    saw_broken = std::string(e.what()) == message;
  }
  CHECK(saw_broken);
  CHECK_THROWS_WITH_AS(pool.submit([] { return 1; }), message.c_str(), pexec::BrokenThreadPool);
  try {
    pool.submit([] { return 1; });
  } catch (const std::runtime_error&) {  // a broken pool is also a runtime_error
  }
  CHECK(log.text().find("Exception in initializer: std::runtime_error: init failed") != std::string::npos);
}

TEST_CASE("map returns results in input order") {
  ThreadPoolExecutor pool(4);
  std::vector<int> inputs;
  for (int i = -5; i < 5; ++i) inputs.push_back(i);
  std::vector<int> results;
  for (int r : pool.map([](int x) { return std::abs(x); }, inputs)) results.push_back(r);
  CHECK(results == std::vector<int>{5, 4, 3, 2, 1, 0, 1, 2, 3, 4});
}

TEST_CASE("map of a function that returns nothing gives std::monostate results, as Python's None") {
  ThreadPoolExecutor pool(2);
  std::atomic<int> sum{0};
  std::vector<std::monostate> results;
  for (std::monostate r : pool.map([&](int x) { sum += x; }, std::vector<int>{1, 2, 3})) results.push_back(r);
  CHECK(results.size() == 3);
  CHECK(sum == 6);
}

TEST_CASE("map submits everything at the call without buffersize") {
  ThreadPoolExecutor pool(2);
  std::atomic<int> calls{0};
  {
    auto results = pool.map([&](int x) { return ++calls + x * 0; }, std::vector<int>(6, 0));
    pool.shutdown(true);
  }
  CHECK(calls == 6);
}

TEST_CASE("ThreadPoolExecutorTest.test_map_submits_without_iteration: results dropped unread, every task runs") {
  ThreadPoolExecutor pool(1);
  std::atomic<int> calls{0};
  pool.map(
      [&](int x) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return ++calls + x;
      },
      std::vector<int>(10, 0));  // the results are dropped at once
  pool.shutdown(true);
  CHECK(calls == 10);
}

TEST_CASE("map results dropped after a read cancel the tasks not started") {
  ThreadPoolExecutor pool(1);
  Event release;
  std::atomic<int> ran_late{0};
  {
    auto results = pool.map(
        [&](int x) {
          if (x == 1) release.wait();  // keeps the only worker busy: 2 and 3 stay queued
          if (x >= 2) ++ran_late;
          return x;
        },
        std::vector<int>{0, 1, 2, 3});
    CHECK(*results.next() == 0);
  }  // dropped after one read, as a closed generator
  release.set();
  pool.shutdown(true);
  CHECK(ran_late == 0);
}

TEST_CASE("map stops at the first exception and cancels the rest") {
  ThreadPoolExecutor pool(1);
  Event release;
  std::atomic<int> ran_after{0};
  auto results = pool.map(
      [&](int x) {
        if (x == 7) release.wait();  // keeps the only worker busy so that 20 and 30 stay queued
        if (x > 10) ++ran_after;
        if (x == 0) throw std::domain_error("division by zero");
        return 10 / x;
      },
      std::vector<int>{2, 0, 7, 20, 30});
  CHECK(*results.next() == 5);
  CHECK_THROWS_WITH_AS(results.next(), "division by zero", std::domain_error);
  CHECK_FALSE(results.next().has_value());
  release.set();
  pool.shutdown();
  CHECK(ran_after == 0);
}

TEST_CASE("map's timeout counts from the call and cancels what has not started") {
  ThreadPoolExecutor pool(1);
  Event release;
  std::atomic<int> started{0};
  auto results = pool.map(
      [&](int x) {
        ++started;
        if (x == 1) release.wait();
        return x;
      },
      std::vector<int>{0, 1, 2}, 0.2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(*results.next() == 0);
  CHECK_THROWS_WITH_AS(results.next(), "", pexec::TimeoutError);
  CHECK_FALSE(results.next().has_value());
  release.set();
  pool.shutdown();
  CHECK(started == 2);  // the third input was cancelled before it started
}

TEST_CASE("map with buffersize reads an endless input lazily") {
  ThreadPoolExecutor pool(2);
  std::atomic<int> calls{0};
  auto results = pool.map(
      [&](int x) {
        ++calls;
        return x * 2;
      },
      std::views::iota(0), {}, 2);
  std::vector<int> firsts;
  for (int r : results) {
    firsts.push_back(r);
    if (firsts.size() == 5) break;
  }
  CHECK(firsts == std::vector<int>{0, 2, 4, 6, 8});
  CHECK(calls <= 5 + 2);
}

TEST_CASE("map with buffersize keeps input order for several buffer sizes") {
  ThreadPoolExecutor pool(3);
  std::vector<int> inputs(20);
  std::iota(inputs.begin(), inputs.end(), 0);
  for (std::size_t buffersize : {1, 2, 20, 40}) {
    std::vector<int> results;
    for (int r : pool.map([](int x) { return x + 1; }, inputs, {}, buffersize)) results.push_back(r);
    CHECK(results.size() == 20);
    CHECK(std::is_sorted(results.begin(), results.end()));
  }
  CHECK_THROWS_WITH_AS(pool.map([](int x) { return x; }, inputs, {}, 0), "buffersize must be None or > 0",
                       std::invalid_argument);
  // ExecutorTest.test_map_buffersize_value_validation: a negative size too, not "unlimited".
  CHECK_THROWS_WITH_AS(pool.map([](int x) { return x; }, inputs, {}, -1), "buffersize must be None or > 0",
                       std::invalid_argument);
}

TEST_CASE("map with buffersize submits only that many before iteration") {
  ThreadPoolExecutor pool(1);
  std::vector<int> inputs{0, 1, 2, 3};
  int read = 0;
  auto counted = inputs | std::views::transform([&](int x) {
                   ++read;
                   return x;
                 });
  auto results = pool.map([](int x) { return x; }, counted, {}, 2);
  pool.shutdown();
  CHECK(read == 2);
  // next() first submits one more call, which fails after shutdown (as in Python).
  CHECK_THROWS_WITH_AS(results.next(), "cannot schedule new futures after shutdown", std::runtime_error);
}

TEST_CASE("map after shutdown raises at the call") {
  ThreadPoolExecutor pool(1);
  pool.shutdown();
  CHECK_THROWS_AS(pool.map([](int x) { return x; }, std::vector<int>{1}), std::runtime_error);
}
