#pragma once
/// wait() and as_completed(): waiting on many futures at once, as Python's
/// concurrent.futures.wait and as_completed. Futures may come from any executor or be driven by
/// hand; duplicates count once. Futures of different result types go together as FutureBase
/// (a range of FutureBase gives FutureBase back). Cancelled futures count as done once they are notified
/// (CANCELLED_AND_NOTIFIED), exactly as in Python.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <ranges>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pexec/future.hpp"

namespace pexec {

/// When wait() returns: Python's FIRST_COMPLETED, FIRST_EXCEPTION and ALL_COMPLETED.
enum ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };

namespace detail {
/// The handle a range of futures holds, by result type: Future<T>, or FutureBase for any.
template <class T>
struct FutureHandleOf {
  using type = Future<T>;
};
template <>
struct FutureHandleOf<FutureBase> {
  using type = FutureBase;
};
/// The result type of a handle: T for Future<T>, FutureBase for FutureBase.
template <class F>
struct ResultTypeOf {
  using type = typename F::value_type;
};
template <>
struct ResultTypeOf<FutureBase> {
  using type = FutureBase;
};
}  // namespace detail

/// Future<T>, or FutureBase when T is FutureBase.
template <class T>
using FutureHandle = typename detail::FutureHandleOf<T>::type;

/// wait()'s result: Python's DoneAndNotDoneFutures named tuple.
template <class T>
struct DoneAndNotDoneFutures {
  std::unordered_set<FutureHandle<T>> done;
  std::unordered_set<FutureHandle<T>> not_done;
};

namespace detail {

/// Collects completions in order under its own lock and wakes whoever waits on it
/// (Python's _Waiter family, one class with the three stopping rules as a parameter).
class CompletionWaiter final : public Waiter {
 public:
  /// `pending` is how many futures are not yet done; `rule` decides when the event fires
  /// (ALL_COMPLETED also serves as_completed, which wakes on every completion).
  CompletionWaiter(ReturnWhen rule, std::size_t pending) : rule_(rule), pending_(pending) {}

  void add_result(FutureCore* f) override { record(f, false); }
  void add_exception(FutureCore* f) override { record(f, true); }
  void add_cancelled(FutureCore* f) override { record(f, false); }

  /// Waits until the event fires or the deadline passes.
  void wait_until(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock lock(mutex_);
    auto fired = [this] { return fired_; };
    if (deadline) {
      condition_.wait_until(lock, *deadline, fired);
    } else {
      condition_.wait(lock, fired);
    }
  }

  /// Waits until something has finished or the deadline passes; takes what finished.
  std::vector<FutureCore*> take_finished(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock lock(mutex_);
    auto any = [this] { return !finished_.empty(); };
    if (deadline) {
      condition_.wait_until(lock, *deadline, any);
    } else {
      condition_.wait(lock, any);
    }
    return std::exchange(finished_, {});
  }

  std::vector<FutureCore*> finished() {
    std::lock_guard lock(mutex_);
    return finished_;
  }

 private:
  void record(FutureCore* f, bool is_exception) {
    std::lock_guard lock(mutex_);
    finished_.push_back(f);
    if (pending_ > 0) --pending_;
    bool fire = rule_ == FIRST_COMPLETED || pending_ == 0 || (rule_ == FIRST_EXCEPTION && is_exception);
    if (fire) {
      fired_ = true;
    }
    condition_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable condition_;
  ReturnWhen rule_;
  std::size_t pending_;
  bool fired_ = false;
  std::vector<FutureCore*> finished_;
};

inline std::optional<std::chrono::steady_clock::time_point> deadline_after(Timeout timeout) {
  if (!timeout) return std::nullopt;
  return std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                std::chrono::duration<double>(std::min(*timeout, 1e9)));
}

/// The distinct futures of a range, in first-seen order, keyed by their shared state.
template <class T, class Range>
std::unordered_map<const FutureCore*, FutureHandle<T>> distinct(const Range& futures) {
  std::unordered_map<const FutureCore*, FutureHandle<T>> by_core;
  for (const FutureHandle<T>& f : futures) by_core.emplace(&f.core(), f);
  return by_core;
}

}  // namespace detail

/// Waits for the futures in `futures` until `return_when` holds or `timeout` seconds pass, and
/// returns {done, not_done}. Never throws TimeoutError: on timeout, not_done is not empty.
template <std::ranges::input_range Range,
          class T = typename detail::ResultTypeOf<std::ranges::range_value_t<Range>>::type>
DoneAndNotDoneFutures<T> wait(const Range& futures, Timeout timeout = {}, ReturnWhen return_when = ALL_COMPLETED) {
  if (return_when != FIRST_COMPLETED && return_when != FIRST_EXCEPTION && return_when != ALL_COMPLETED) {
    // Validated up front (Python only notices when it has to wait; see the reference, Q3).
    throw std::invalid_argument("Invalid return condition: " + std::to_string(static_cast<int>(return_when)));
  }
  auto deadline = detail::deadline_after(timeout);
  auto by_core = detail::distinct<T>(futures);
  detail::CompletionWaiter waiter(return_when, by_core.size());
  for (auto& [core, future] : by_core) future.core().install(&waiter);
  if (!by_core.empty()) waiter.wait_until(deadline);
  for (auto& [core, future] : by_core) future.core().remove(&waiter);

  DoneAndNotDoneFutures<T> result;
  for (detail::FutureCore* core : waiter.finished()) result.done.insert(by_core.at(core));
  for (auto& [core, future] : by_core) {
    if (!result.done.contains(future)) result.not_done.insert(future);
  }
  return result;
}

/// The futures of `futures`, each once, as they finish (those already finished first);
/// throws TimeoutError("N (of M) futures unfinished") when `timeout` seconds have passed since
/// the call. Use in a range-for.
template <class T>
class AsCompleted {
 public:
  template <class Range>
  AsCompleted(const Range& futures, Timeout timeout)
      : deadline_(detail::deadline_after(timeout)), pending_(detail::distinct<T>(futures)) {
    total_ = pending_.size();
    waiter_ = std::make_unique<detail::CompletionWaiter>(ALL_COMPLETED, total_);
    for (auto& [core, future] : pending_) future.core().install(waiter_.get());
  }
  AsCompleted(const AsCompleted&) = delete;
  AsCompleted& operator=(const AsCompleted&) = delete;
  ~AsCompleted() {
    for (auto& [core, future] : pending_) future.core().remove(waiter_.get());
  }

  /// The next future to finish, or nothing when all have been yielded.
  std::optional<FutureHandle<T>> next() {
    while (true) {
      if (!ready_.empty()) {
        FutureHandle<T> future = std::move(ready_.back());
        ready_.pop_back();
        return future;
      }
      if (pending_.empty()) return std::nullopt;
      // Futures that finished already are yielded before the timeout is checked (Python does too).
      std::vector<detail::FutureCore*> finished = waiter_->take_finished(std::chrono::steady_clock::time_point::min());
      if (finished.empty()) {
        if (deadline_ && std::chrono::steady_clock::now() >= *deadline_) {
          throw TimeoutError(std::to_string(pending_.size()) + " (of " + std::to_string(total_) +
                             ") futures unfinished");
        }
        finished = waiter_->take_finished(deadline_);
      }
      // ready_ is popped from the back: store in reverse so futures leave in completion order.
      for (auto it = finished.rbegin(); it != finished.rend(); ++it) {
        auto found = pending_.find(*it);
        if (found == pending_.end()) continue;
        found->second.core().remove(waiter_.get());
        ready_.push_back(std::move(found->second));
        pending_.erase(found);
      }
    }
  }

  class iterator {
   public:
    using value_type = FutureHandle<T>;
    using difference_type = std::ptrdiff_t;
    explicit iterator(AsCompleted* owner) : owner_(owner) { advance(); }
    iterator() = default;
    const FutureHandle<T>& operator*() const { return *current_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return !it.current_; }

   private:
    void advance() {
      current_.reset();  // drop our copy of the yielded future before waiting for the next
      current_ = owner_->next();
    }
    AsCompleted* owner_ = nullptr;
    std::optional<FutureHandle<T>> current_;
  };

  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::unordered_map<const detail::FutureCore*, FutureHandle<T>> pending_;
  std::size_t total_ = 0;
  std::unique_ptr<detail::CompletionWaiter> waiter_;
  std::vector<FutureHandle<T>> ready_;
};

/// Yields the futures of `futures` as they complete; see AsCompleted. The clock starts now.
template <std::ranges::input_range Range,
          class T = typename detail::ResultTypeOf<std::ranges::range_value_t<Range>>::type>
AsCompleted<T> as_completed(const Range& futures, Timeout timeout = {}) {
  return AsCompleted<T>(futures, timeout);
}

}  // namespace pexec
