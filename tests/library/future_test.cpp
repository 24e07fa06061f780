// Future<T>: the state truth tables, cancel, result/exception with timeouts, set_* errors,
// done-callbacks and repr, as in CPython's test_future.py.
#include <doctest/doctest.h>

#include <regex>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

#include "event.hpp"
#include "log_capture.hpp"
#include "pexec/future.hpp"

using pexec::Future;
using pexec::FutureState;

namespace {
Future<int> pending() { return Future<int>(); }
Future<int> running() {
  Future<int> f;
  REQUIRE(f.set_running_or_notify_cancel());
  return f;
}
Future<int> cancelled() {
  Future<int> f;
  REQUIRE(f.cancel());
  return f;
}
Future<int> cancelled_and_notified() {
  Future<int> f = cancelled();
  REQUIRE_FALSE(f.set_running_or_notify_cancel());
  return f;
}
Future<int> succeeded(int value = 42) {
  Future<int> f;
  f.set_result(value);
  return f;
}
Future<int> failed() {
  Future<int> f;
  f.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
  return f;
}
}  // namespace

TEST_CASE("query methods follow the state truth table") {
  struct Row {
    Future<int> f;
    bool cancelled, running, done;
  };
  std::vector<Row> rows = {{pending(), false, false, false},  {running(), false, true, false},
                           {cancelled(), true, false, true},  {cancelled_and_notified(), true, false, true},
                           {succeeded(), false, false, true}, {failed(), false, false, true}};
  for (auto& row : rows) {
    CAPTURE(row.f.repr());
    CHECK(row.f.cancelled() == row.cancelled);
    CHECK(row.f.running() == row.running);
    CHECK(row.f.done() == row.done);
  }
}

TEST_CASE("cancel returns true for pending and cancelled futures, false for running and finished") {
  Future<int> p = pending();
  CHECK(p.cancel());
  CHECK(p.state() == FutureState::CANCELLED);
  CHECK(p.cancel());  // again: still true, state unchanged
  CHECK(p.state() == FutureState::CANCELLED);
  Future<int> n = cancelled_and_notified();
  CHECK(n.cancel());
  CHECK(n.state() == FutureState::CANCELLED_AND_NOTIFIED);
  Future<int> r = running();
  CHECK_FALSE(r.cancel());
  CHECK(r.state() == FutureState::RUNNING);
  Future<int> s = succeeded();
  CHECK_FALSE(s.cancel());
  CHECK(s.state() == FutureState::FINISHED);
}

TEST_CASE("result and exception of finished, cancelled and unfinished futures") {
  CHECK(succeeded(7).result() == 7);
  CHECK(succeeded(7).result(-1) == 7);  // a ready future answers whatever the timeout
  CHECK_FALSE(succeeded().exception());
  CHECK_THROWS_WITH_AS(failed().result(), "boom", std::runtime_error);
  CHECK(failed().exception(0));
  CHECK_THROWS_AS(cancelled().result(), pexec::CancelledError);
  CHECK_THROWS_AS(cancelled_and_notified().exception(), pexec::CancelledError);
  CHECK_THROWS_WITH_AS(pending().result(0), "", pexec::TimeoutError);
  CHECK_THROWS_WITH_AS(running().exception(0.05), "", pexec::TimeoutError);
}

TEST_CASE("a thread blocked in result wakes on set_result and on cancel") {
  Future<int> value;
  std::thread setter([&] { value.set_result(5); });
  CHECK(value.result(30) == 5);
  setter.join();

  Future<int> doomed;
  Event waiting;
  std::thread canceller([&] {
    waiting.wait();
    doomed.cancel();
  });
  waiting.set();
  CHECK_THROWS_AS(doomed.result(30), pexec::CancelledError);
  canceller.join();
}

TEST_CASE("set_result and set_exception on a done future raise InvalidStateError and keep the first value") {
  Future<int> f = succeeded(1);
  try {
    f.set_result(2);
    FAIL("expected InvalidStateError");
  } catch (const pexec::InvalidStateError& e) {
    CHECK(std::regex_match(e.what(), std::regex(R"(FINISHED: <Future at 0x[0-9a-f]+ state=finished returned int>)")));
  }
  CHECK(f.result() == 1);
  CHECK_THROWS_AS(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), pexec::InvalidStateError);
  Future<int> c = cancelled();
  CHECK_THROWS_WITH_AS(c.set_result(3), doctest::Contains("CANCELLED: <Future at"), pexec::InvalidStateError);
  CHECK_THROWS_AS(cancelled_and_notified().set_result(3), pexec::InvalidStateError);
}

TEST_CASE("set_running_or_notify_cancel follows its table") {
  CHECK(pending().set_running_or_notify_cancel());
  Future<int> c = cancelled();
  CHECK_FALSE(c.set_running_or_notify_cancel());
  CHECK(c.state() == FutureState::CANCELLED_AND_NOTIFIED);
  LogCapture log;
  CHECK_THROWS_WITH_AS(running().set_running_or_notify_cancel(), "Future in unexpected state", std::runtime_error);
  CHECK_THROWS_AS(succeeded().set_running_or_notify_cancel(), std::runtime_error);
  CHECK_THROWS_AS(cancelled_and_notified().set_running_or_notify_cancel(), std::runtime_error);
  CHECK(log.text().find("in unexpected state: RUNNING") != std::string::npos);
}

TEST_CASE("a pending future can go straight to FINISHED") {
  Future<int> f;
  f.set_result(3);
  CHECK(f.state() == FutureState::FINISHED);
  CHECK(f.result() == 3);
}

TEST_CASE("done callbacks run once each, in order, with the future, at once if already done") {
  std::vector<std::string> calls;
  Future<int> f;
  f.add_done_callback([&](const Future<int>& g) {
    // Appended, not "a" + std::to_string(...): GCC 12 -O3 sees a false -Wrestrict overlap in
    // operator+(const char*, std::string&&) (its insert at offset 0).
    std::string call = "a";
    call += std::to_string(g.result());
    calls.push_back(call);
  });
  f.add_done_callback([&](const Future<int>& g) {
    CHECK(g == f);
    CHECK(g.done());
    calls.push_back("b");
  });
  CHECK(calls.empty());
  f.set_result(1);
  CHECK(calls == std::vector<std::string>{"a1", "b"});
  f.add_done_callback([&](const Future<int>&) { calls.push_back("late"); });
  CHECK(calls.back() == "late");
  CHECK(calls.size() == 3);
}

TEST_CASE("cancel runs the callbacks once in the cancelling thread") {
  int runs = 0;
  std::thread::id runner;
  Future<int> f;
  f.add_done_callback([&](const Future<int>& g) {
    ++runs;
    runner = std::this_thread::get_id();
    CHECK(g.cancelled());
  });
  f.cancel();
  f.cancel();
  CHECK(runs == 1);
  CHECK(runner == std::this_thread::get_id());
}

TEST_CASE("a throwing callback is logged and the others still run") {
  LogCapture log;
  bool second_ran = false;
  Future<int> f;
  f.add_done_callback([](const Future<int>&) { throw std::runtime_error("doh!"); });
  f.add_done_callback([&](const Future<int>&) { second_ran = true; });
  CHECK_NOTHROW(f.set_result(1));
  CHECK(second_ran);
  CHECK(log.text().find("exception calling callback for <Future at") != std::string::npos);
  CHECK(log.text().find("doh!") != std::string::npos);

  LogCapture again;
  CHECK_NOTHROW(f.add_done_callback([](const Future<int>&) { throw std::logic_error("doh again"); }));
  CHECK(again.text().find("doh again") != std::string::npos);
}

TEST_CASE("repr shows the state and the result type") {
  std::regex pattern(R"(<Future at 0x[0-9a-f]+ state=(\w+)( (returned|raised) [\w:]+)?>)");
  CHECK(std::regex_match(pending().repr(), pattern));
  CHECK(pending().repr().find("state=pending>") != std::string::npos);
  CHECK(running().repr().find("state=running>") != std::string::npos);
  CHECK(cancelled().repr().find("state=cancelled>") != std::string::npos);
  CHECK(cancelled_and_notified().repr().find("state=cancelled>") != std::string::npos);
  CHECK(succeeded().repr().find("state=finished returned int>") != std::string::npos);
  CHECK(failed().repr().find("state=finished raised std::runtime_error>") != std::string::npos);
  Future<void> v;
  v.set_result();
  CHECK(v.repr().find("state=finished returned void>") != std::string::npos);
}

TEST_CASE("futures are handles: copies share state, hash and compare by it") {
  Future<int> a;
  Future<int> b = a;
  Future<int> c;
  CHECK(a == b);
  CHECK_FALSE(a == c);
  std::unordered_set<Future<int>> set{a, b, c};
  CHECK(set.size() == 2);
  b.set_result(9);
  CHECK(a.result() == 9);
}

TEST_CASE("Future<void> and set_exception with a null pointer") {
  Future<void> f;
  CHECK(f.set_running_or_notify_cancel());
  f.set_result();
  CHECK_NOTHROW(f.result());
  Future<int> g;
  CHECK_THROWS_AS(g.set_exception(nullptr), std::invalid_argument);
}

TEST_CASE("a falsy-looking exception is still raised") {
  struct Empty {};
  Future<int> f;
  f.set_exception(std::make_exception_ptr(Empty{}));
  CHECK(f.exception() != nullptr);
  CHECK_THROWS_AS(f.result(), Empty);
}
