#pragma once
// A move-only, type-erased unit of work bound to the future it completes: what the pools queue.

#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

#include "pexec/future.hpp"

namespace pexec::detail {

/// Runs a callable and stores its outcome in a future. `before_publish` runs after the call
/// returned and before the result becomes visible, so a pool can count itself idle first.
class Task {
 public:
  virtual ~Task() = default;
  virtual void run(const std::function<void()>& before_publish) = 0;
  virtual FutureCore& future() = 0;
};

template <class R, class F, class... Args>
class BoundTask final : public Task {
 public:
  BoundTask(Future<R> future, F fn, std::tuple<Args...> args)
      : future_(std::move(future)), fn_(std::move(fn)), args_(std::move(args)) {}

  void run(const std::function<void()>& before_publish) override {
    try {
      if constexpr (std::is_void_v<R>) {
        std::apply(fn_, std::move(args_));
        before_publish();
        future_.set_result();
      } else {
        R value = std::apply(fn_, std::move(args_));
        before_publish();
        future_.set_result(std::move(value));
      }
    } catch (...) {
      before_publish();
      future_.set_exception(std::current_exception());
    }
  }
  FutureCore& future() override { return future_.core(); }

 private:
  Future<R> future_;
  F fn_;
  std::tuple<Args...> args_;
};

/// Binds fn(args...) to a new future; returns the future and the task that completes it.
template <class F, class... Args>
auto bind_task(F&& fn, Args&&... args) {
  using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>...>;
  Future<R> future;
  auto task = std::make_unique<BoundTask<R, std::decay_t<F>, std::decay_t<Args>...>>(
      future, std::forward<F>(fn), std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...));
  return std::pair<Future<R>, std::unique_ptr<Task>>(std::move(future), std::move(task));
}

}  // namespace pexec::detail
