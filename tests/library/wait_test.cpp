// wait() and as_completed(): each return_when with and without timeout, duplicates, completion
// order and the timeout message, as in CPython's test_wait.py and test_as_completed.py.
#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <typeinfo>
#include <unordered_set>
#include <vector>

#include "event.hpp"
#include "pexec/thread_pool.hpp"
#include "pexec/wait.hpp"

using pexec::Future;

namespace {
Future<int> succeeded(int v = 1) {
  Future<int> f;
  f.set_result(v);
  return f;
}
Future<int> failed() {
  Future<int> f;
  f.set_exception(std::make_exception_ptr(std::runtime_error("bad")));
  return f;
}
Future<int> cancelled_and_notified() {
  Future<int> f;
  f.cancel();
  f.set_running_or_notify_cancel();
  return f;
}
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

TEST_CASE("wait on nothing returns two empty sets at once") {
  std::vector<Future<int>> none;
  auto [done, not_done] = pexec::wait(none, 0, pexec::FIRST_COMPLETED);
  CHECK(done.empty());
  CHECK(not_done.empty());
}

TEST_CASE("wait FIRST_COMPLETED returns when one future completes") {
  Future<int> blocked;
  Future<int> later;
  std::thread completer([&] { later.set_result(2); });
  auto [done, not_done] = pexec::wait(std::vector{blocked, later}, 30, pexec::FIRST_COMPLETED);
  completer.join();
  CHECK(done.size() == 1);
  CHECK(done.contains(later));
  CHECK(not_done.contains(blocked));
}

TEST_CASE("wait FIRST_COMPLETED returns at once when something is already done") {
  Future<int> blocked;
  Future<int> ready = succeeded();
  auto [done, not_done] = pexec::wait(std::vector{blocked, ready}, {}, pexec::FIRST_COMPLETED);
  CHECK(done == std::unordered_set{ready});
  CHECK(not_done == std::unordered_set{blocked});
}

TEST_CASE("a cancelled future counts as done only once notified") {
  Future<int> plain;
  plain.cancel();
  auto first = pexec::wait(std::vector{plain}, 0.05, pexec::FIRST_COMPLETED);
  CHECK(first.done.empty());
  CHECK(first.not_done.size() == 1);
  plain.set_running_or_notify_cancel();
  auto second = pexec::wait(std::vector{plain}, 0.05, pexec::FIRST_COMPLETED);
  CHECK(second.done.size() == 1);
}

TEST_CASE("wait FIRST_EXCEPTION returns on the first exception") {
  Future<int> ok = succeeded();
  Future<int> blocked;
  Future<int> bad;
  std::thread failer([&] { bad.set_exception(std::make_exception_ptr(std::runtime_error("x"))); });
  auto [done, not_done] = pexec::wait(std::vector{ok, blocked, bad}, 30, pexec::FIRST_EXCEPTION);
  failer.join();
  CHECK(done == std::unordered_set{ok, bad});
  CHECK(not_done == std::unordered_set{blocked});
}

TEST_CASE("wait FIRST_EXCEPTION returns at once when a future already failed") {
  Future<int> blocked;
  Future<int> bad = failed();
  auto start = std::chrono::steady_clock::now();
  auto [done, not_done] = pexec::wait(std::vector{blocked, bad}, 30, pexec::FIRST_EXCEPTION);
  CHECK(seconds_since(start) < 10);
  CHECK(done == std::unordered_set{bad});
  CHECK(not_done == std::unordered_set{blocked});
}

TEST_CASE("wait FIRST_EXCEPTION with no exception waits for all, like ALL_COMPLETED") {
  pexec::ThreadPoolExecutor pool(3);
  Event release;
  auto a = pool.submit([&] { return release.wait() ? 1 : 0; });
  auto b = pool.submit([] { return 2; });
  auto c = cancelled_and_notified();
  std::thread releaser([&] { release.set(); });
  auto [done, not_done] = pexec::wait(std::vector{a, b, c}, 30, pexec::FIRST_EXCEPTION);
  releaser.join();
  CHECK(done.size() == 3);
  CHECK(not_done.empty());
}

TEST_CASE("wait ALL_COMPLETED counts results, exceptions and notified cancellations") {
  Future<int> late;
  std::thread completer([&] { late.set_result(3); });
  auto [done, not_done] = pexec::wait(std::vector{succeeded(), failed(), cancelled_and_notified(), late});
  completer.join();
  CHECK(done.size() == 4);
  CHECK(not_done.empty());
}

TEST_CASE("wait with a timeout never throws: it returns what is not done") {
  Future<int> blocked;
  std::vector<Future<int>> fs{succeeded(), failed(), cancelled_and_notified(), blocked};
  auto start = std::chrono::steady_clock::now();
  auto [done, not_done] = pexec::wait(fs, 0.05, pexec::ALL_COMPLETED);
  CHECK(seconds_since(start) >= 0.04);
  CHECK(done.size() == 3);
  CHECK(not_done == std::unordered_set{blocked});
}

TEST_CASE("wait removes duplicates") {
  Future<int> f = succeeded();
  auto [done, not_done] = pexec::wait(std::vector{f, f, f});
  CHECK(done.size() == 1);
}

TEST_CASE("wait rejects an invalid return condition") {
  Future<int> blocked;
  CHECK_THROWS_WITH_AS(pexec::wait(std::vector{blocked}, 0, static_cast<pexec::ReturnWhen>(7)),
                       "Invalid return condition: 7", std::invalid_argument);
}

TEST_CASE("as_completed yields finished futures first, then in completion order, each once") {
  Future<int> done_already = succeeded(0);
  Future<int> first, second;
  Event go_first, go_second;
  std::thread completer([&] {
    go_first.wait();
    first.set_result(1);
    go_second.wait();
    second.set_result(2);
  });
  std::vector<int> order;
  for (const Future<int>& f : pexec::as_completed(std::vector{second, first, done_already, first}, 30)) {
    order.push_back(f.result());
    if (order.size() == 1) go_first.set();
    if (order.size() == 2) go_second.set();
  }
  completer.join();
  CHECK(order == std::vector{0, 1, 2});
}

TEST_CASE("as_completed yields duplicates once") {
  Future<int> f = succeeded();
  int count = 0;
  for ([[maybe_unused]] const auto& g : pexec::as_completed(std::vector{f, f, f})) ++count;
  CHECK(count == 1);
}

TEST_CASE("as_completed timeout message counts unfinished futures after de-duplication") {
  Future<int> pending_future;
  Future<int> running_future;
  running_future.set_running_or_notify_cancel();
  std::vector<Future<int>> fs{cancelled_and_notified(), pending_future, running_future, succeeded(), pending_future};
  for (double timeout : {0.0, 0.1}) {
    CAPTURE(timeout);
    int yielded = 0;
    try {
      for ([[maybe_unused]] const auto& f : pexec::as_completed(fs, timeout)) ++yielded;
      FAIL("expected TimeoutError");
    } catch (const pexec::TimeoutError& e) {
      CHECK(std::string(e.what()) == "2 (of 4) futures unfinished");
    }
    CHECK(yielded == 2);  // the finished ones come out before the timeout
  }
}

TEST_CASE("as_completed over finished futures ends without raising, whatever the timeout") {
  int count = 0;
  for ([[maybe_unused]] const auto& f : pexec::as_completed(std::vector{succeeded(), failed()}, 0)) ++count;
  CHECK(count == 2);
  std::vector<Future<int>> none;
  for ([[maybe_unused]] const auto& f : pexec::as_completed(none, 0)) FAIL("nothing to yield");
}

TEST_CASE("as_completed's clock starts at the call") {
  Future<int> blocked;
  auto completed = pexec::as_completed(std::vector{blocked}, 0.2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(completed.next(), "1 (of 1) futures unfinished", pexec::TimeoutError);
  CHECK(seconds_since(start) < 0.15);
}

TEST_CASE("as_completed sees a future notified as cancelled") {
  Future<int> f;
  std::thread canceller([&] {
    f.cancel();
    f.set_running_or_notify_cancel();
  });
  int count = 0;
  for (const auto& g : pexec::as_completed(std::vector{f}, 30)) {
    CHECK(g.cancelled());
    ++count;
  }
  canceller.join();
  CHECK(count == 1);
}

TEST_CASE("WaitTests.test_first_completed over futures of different result types, as FutureBase") {
  pexec::ThreadPoolExecutor pool(2);
  Event release;
  Future<int> product = pool.submit([](int a, int b) { return a * b; }, 21, 2);
  Future<void> blocked = pool.submit([&release] { release.wait(); });
  product.result(30);
  auto [done, not_done] = pexec::wait(std::vector<pexec::FutureBase>{product, blocked}, 30, pexec::FIRST_COMPLETED);
  CHECK(done == std::unordered_set<pexec::FutureBase>{product});
  CHECK(not_done == std::unordered_set<pexec::FutureBase>{blocked});
  CHECK(done.begin()->as<int>().result() == 42);  // the typed future back
  CHECK_THROWS_AS(done.begin()->as<std::string>(), std::bad_cast);
  CHECK(pexec::FutureBase(product) == pexec::FutureBase(done.begin()->as<int>()));
  release.set();
}

TEST_CASE("AsCompletedTests.test_no_timeout over futures of different result types, as FutureBase") {
  Future<int> number = succeeded(7);
  Future<std::string> text;
  Future<void> nothing;
  Event started;
  std::thread completer([&] {
    started.wait();  // the other two finish after the call
    text.set_result("seven");
    nothing.set_result();
  });
  std::vector<pexec::FutureBase> seen;
  auto completed = pexec::as_completed(std::vector<pexec::FutureBase>{number, text, nothing}, 30);
  started.set();
  for (const pexec::FutureBase& future : completed) seen.push_back(future);
  completer.join();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == pexec::FutureBase(number));  // finished before the call: first
  CHECK(std::unordered_set<pexec::FutureBase>(seen.begin(), seen.end()) ==
        std::unordered_set<pexec::FutureBase>{number, text, nothing});
  CHECK(seen[0].as<int>().result() == 7);
  for (const pexec::FutureBase& future : seen) CHECK(future.done());
  CHECK(pexec::FutureBase(failed()).exception() != nullptr);
}
