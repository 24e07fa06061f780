#pragma once
/// MapResults: what Executor::map returns, the results in input order, read lazily (Python's
/// map generator, 3.14 semantics). The timeout counts from the map() call; when a result raises
/// (the task's exception, or TimeoutError), that future and every remaining one are cancelled and
/// the iteration ends. Dropping it after reading from it also cancels what is left; dropped
/// unread, every submitted task still runs (CPython: closing a generator that never started does
/// not run its `finally`; test_map_submits_without_iteration).

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <vector>

#include "pexec/future.hpp"
#include "pexec/wait.hpp"

namespace pexec {

/// Results of Executor::map in input order. Each task yields a Chunk: the result itself, or, for
/// a process pool's chunked map, a std::vector of results.
template <class R, class Chunk = R>
class MapResults {
 public:
  /// Submits the task for the next input and returns its future, or nothing at the end of input.
  using SubmitNext = std::function<std::optional<Future<Chunk>>()>;

  MapResults(SubmitNext submit_next, Timeout timeout, std::optional<std::ptrdiff_t> buffersize)
      : deadline_(detail::deadline_after(timeout)) {
    if (buffersize && *buffersize < 1) throw std::invalid_argument("buffersize must be None or > 0");
    // Eager without buffersize: everything is submitted before map() returns, as in Python.
    // (Signed, so that a negative buffersize is refused as in Python, not taken as unlimited.)
    std::size_t limit = buffersize ? static_cast<std::size_t>(*buffersize) : SIZE_MAX;
    while (futures_.size() < limit) {
      std::optional<Future<Chunk>> future = submit_next();
      if (!future) return;
      futures_.push_back(std::move(*future));
    }
    submit_next_ = std::move(submit_next);
  }
  MapResults(MapResults&&) = default;
  MapResults& operator=(MapResults&&) = default;
  ~MapResults() {
    if (started_) cancel_remaining();
  }

  /// The next result in input order, or nothing at the end; rethrows a task's exception, or
  /// TimeoutError (empty message) past the deadline.
  std::optional<R> next() {
    started_ = true;
    if (!values_.empty()) return pop_value();
    if (submit_next_) {
      try {
        std::optional<Future<Chunk>> future = submit_next_();
        if (future)
          futures_.push_back(std::move(*future));
        else
          submit_next_ = nullptr;
      } catch (...) {
        cancel_remaining();
        throw;
      }
    }
    if (futures_.empty()) return std::nullopt;
    Future<Chunk> future = std::move(futures_.front());
    futures_.pop_front();
    try {
      Timeout remaining;
      if (deadline_) remaining = std::chrono::duration<double>(*deadline_ - std::chrono::steady_clock::now()).count();
      Chunk chunk = future.result(remaining);
      if constexpr (std::is_same_v<Chunk, R>) {
        return chunk;
      } else {
        for (auto&& value : chunk) values_.push_back(std::move(value));
        if (values_.empty()) return next();
        return pop_value();
      }
    } catch (...) {
      future.cancel();
      cancel_remaining();
      throw;
    }
  }

  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    explicit iterator(MapResults* owner) : owner_(owner) { current_ = owner_->next(); }
    iterator() = default;
    const R& operator*() const { return *current_; }
    iterator& operator++() {
      current_ = owner_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return !it.current_; }

   private:
    MapResults* owner_ = nullptr;
    std::optional<R> current_;
  };

  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  R pop_value() {
    R value = std::move(values_.front());
    values_.pop_front();
    return value;
  }

  void cancel_remaining() {
    for (auto& future : futures_) future.cancel();
    futures_.clear();
    submit_next_ = nullptr;
  }

  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::deque<Future<Chunk>> futures_;
  std::deque<R> values_;
  SubmitNext submit_next_;
  bool started_ = false;  // next() was called: dropping the results now cancels the rest
};

namespace detail {

/// A range being read one element at a time, kept alive (and not moved) behind a shared_ptr so
/// that map's lazy submitter can hold it: views keep references, owning views keep the container.
template <class Range>
class InputCursor {
 public:
  explicit InputCursor(Range&& range)
      : view_(std::views::all(std::forward<Range>(range))), it_(std::ranges::begin(view_)) {}
  bool at_end() const { return it_ == std::ranges::end(view_); }
  decltype(auto) take() {
    decltype(auto) value = *it_;
    ++it_;
    return value;
  }

 private:
  std::views::all_t<Range> view_;
  std::ranges::iterator_t<std::views::all_t<Range>> it_;
};

template <class Range>
auto make_cursor(Range&& range) {
  return std::make_shared<InputCursor<Range>>(std::forward<Range>(range));
}

}  // namespace detail
}  // namespace pexec
