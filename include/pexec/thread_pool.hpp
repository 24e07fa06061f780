#pragma once
/// ThreadPoolExecutor: runs calls on a pool of threads, as Python's
/// concurrent.futures.ThreadPoolExecutor. Threads start on demand (only when no idle thread can
/// take the call) up to max_workers and live until shutdown; queued calls start in FIFO order.
/// The destructor is shutdown(wait=true), which plays the part of Python's `with` block.

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include "pexec/cpu_count.hpp"
#include "pexec/detail/task.hpp"
#include "pexec/errors.hpp"
#include "pexec/future.hpp"
#include "pexec/logging.hpp"
#include "pexec/map_results.hpp"
#include "pexec/worker_identity.hpp"

namespace pexec {

class ThreadPoolExecutor {
 public:
  /// `max_workers` defaults to min(32, process_cpu_count() + 4); threads are named
  /// "<prefix>_<index>", the prefix defaulting to "ThreadPoolExecutor-<pool number>";
  /// `initializer` runs at the start of each worker thread, and if it throws the pool is broken.
  explicit ThreadPoolExecutor(std::optional<int> max_workers = {}, std::string thread_name_prefix = "",
                              std::function<void()> initializer = {})
      : max_workers_(max_workers.value_or(default_max_workers())),
        thread_name_prefix_(std::move(thread_name_prefix)),
        initializer_(std::move(initializer)) {
    if (max_workers_ <= 0) throw std::invalid_argument("max_workers must be greater than 0");
    if (thread_name_prefix_.empty()) {
      static std::atomic<int> pool_counter{0};
      thread_name_prefix_ = "ThreadPoolExecutor-" + std::to_string(pool_counter++);
    }
  }
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  ~ThreadPoolExecutor() { shutdown(true); }

  /// Schedules fn(args...) and returns its future. Throws BrokenThreadPool on a broken pool and
  /// std::runtime_error("cannot schedule new futures after shutdown") after shutdown().
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    auto [future, task] = detail::bind_task(std::forward<F>(fn), std::forward<Args>(args)...);
    std::unique_lock lock(mutex_);
    if (!broken_.empty()) throw BrokenThreadPool(broken_);
    if (shutdown_) throw std::runtime_error("cannot schedule new futures after shutdown");
    queue_.push_back(std::move(task));
    bool started;
    try {
      started = adjust_thread_count();
    } catch (...) {
      queue_.pop_back();
      throw;
    }
    work_available_.notify_one();
    // A thread started for this call takes work before submit() returns, as a CPython worker
    // does once Thread.start() has returned: a shutdown(cancel_futures=true) right after the
    // submits cancels only what no thread has taken (test_cancel_futures).
    if (started) thread_ready_.wait(lock, [this] { return starting_ == 0; });
    return future;
  }

  /// fn applied to each element of `inputs`, results in input order (see MapResults). Without
  /// `buffersize` every call is submitted now; with it, only that many are ahead of the reader,
  /// and `inputs` is read lazily (it may be endless). The executor must outlive the results.
  template <class F, class Range>
  auto map(F fn, Range&& inputs, Timeout timeout = {}, std::optional<std::ptrdiff_t> buffersize = {}) {
    using Called = std::invoke_result_t<F&, std::ranges::range_reference_t<Range>>;
    // A function that returns nothing gives std::monostate results, as Python's give None.
    using R = std::conditional_t<std::is_void_v<Called>, std::monostate, Called>;
    auto cursor = detail::make_cursor(std::forward<Range>(inputs));
    return MapResults<R>(
        [this, fn = std::move(fn), cursor]() -> std::optional<Future<R>> {
          if (cursor->at_end()) return std::nullopt;
          if constexpr (std::is_void_v<Called>) {
            return submit(
                [fn](auto&& value) {
                  fn(std::forward<decltype(value)>(value));
                  return std::monostate{};
                },
                cursor->take());
          } else {
            return submit(fn, cursor->take());
          }
        },
        timeout, buffersize);
  }

  /// Stops accepting work. Queued calls still run unless `cancel_futures`, which cancels them;
  /// with `wait`, returns when every thread has finished. Safe to call more than once.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    std::vector<std::unique_ptr<detail::Task>> cancelled;
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
      if (cancel_futures) {
        for (auto& task : queue_) cancelled.push_back(std::move(task));
        queue_.clear();
      }
      work_available_.notify_all();
    }
    // Notifying the cancelled futures (not done by Python, see the reference's Q1) lets wait()
    // and as_completed() see them as done instead of blocking until their timeout.
    for (auto& task : cancelled) {
      if (task->future().cancel()) task->future().set_running_or_notify_cancel();
    }
    if (!wait) return;
    std::lock_guard join_lock(join_mutex_);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
      joined_count_ += threads.size();
    }
    for (auto& thread : threads) {
      if (thread.get_id() == std::this_thread::get_id())
        thread.detach();
      else
        thread.join();
    }
  }

  int max_workers() const { return max_workers_; }

  /// The pool size when none is given: min(32, process_cpu_count() + 4), as Python 3.13.
  static int default_max_workers() { return std::min(32, process_cpu_count() + 4); }

  /// How many worker threads exist now (they are created on demand and never retired).
  std::size_t thread_count() const {
    std::lock_guard lock(mutex_);
    return threads_.size() + joined_count_;
  }

 private:
  // Python's _adjust_thread_count: claim an idle thread if there is one, else start one.
  // Whether a thread was started (it will take work, see submit()).
  bool adjust_thread_count() {
    if (idle_ > 0) {
      --idle_;
      return false;
    }
    int count = static_cast<int>(threads_.size());
    if (count >= max_workers_) return false;
    try {
      threads_.emplace_back([this, count] { worker(thread_name_prefix_ + "_" + std::to_string(count), count); });
      ++starting_;
      return true;
    } catch (const std::system_error& e) {
      // No thread to be had (RLIMIT_NPROC, memory): the threads there are take the work. With
      // none at all, the call cannot run: submit() takes it back and throws.
      if (count == 0) throw;
      log_error(std::string("cannot start a worker thread, running with ") + std::to_string(count) + ": " + e.what());
      return false;
    }
  }

  /// A new thread has taken its first task (or found none, or is running its initializer).
  void thread_started() {
    --starting_;
    thread_ready_.notify_all();
  }

  void worker(std::string name, int index) {
    detail::this_worker() = {name, index};
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    bool announced = false;  // to submit(), once this thread has taken its first task
    if (initializer_) {
      {
        std::lock_guard lock(mutex_);  // submit() does not wait for the initializer
        thread_started();
        announced = true;
      }
      try {
        initializer_();
      } catch (...) {
        auto error = detail::describe(std::current_exception());
        log_error("Exception in initializer: " + error.type + ": " + error.message);
        initializer_failed();
        return;
      }
    }
    bool idle_claimed = false;
    const std::function<void()> before_publish = [this, &idle_claimed] {
      std::lock_guard lock(mutex_);
      if (queue_.empty() && !idle_claimed) {
        ++idle_;
        idle_claimed = true;
      }
    };
    std::unique_lock lock(mutex_);
    while (true) {
      if (queue_.empty() && !idle_claimed && !shutdown_) {
        ++idle_;  // This thread will wait: submit() may count on it instead of starting another.
        idle_claimed = true;
      }
      if (!announced) {
        // Under this same lock it now takes the front task, if there is one (the wait below
        // returns at once), or finds none to take: either way submit() need not wait longer.
        announced = true;
        thread_started();
      }
      work_available_.wait(lock, [this] { return !queue_.empty() || shutdown_; });
      if (queue_.empty()) return;  // shut down and drained
      std::unique_ptr<detail::Task> task = std::move(queue_.front());
      queue_.pop_front();
      idle_claimed = false;
      lock.unlock();
      if (task->future().set_running_or_notify_cancel()) task->run(before_publish);
      task.reset();
      lock.lock();
    }
  }

  // Python's _initializer_failed: the pool is broken and every queued call fails with it.
  void initializer_failed() {
    const std::string message = "A thread initializer failed, the thread pool is not usable anymore";
    std::deque<std::unique_ptr<detail::Task>> queued;
    {
      std::lock_guard lock(mutex_);
      broken_ = message;
      queued.swap(queue_);
    }
    for (auto& task : queued) {
      try {
        task->future().set_exception(std::make_exception_ptr(BrokenThreadPool(message)));
      } catch (const InvalidStateError&) {
        // cancelled meanwhile: nothing to report
      }
    }
  }

  const int max_workers_;
  std::string thread_name_prefix_;
  std::function<void()> initializer_;

  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::condition_variable thread_ready_;  // a new thread took its first task
  int starting_ = 0;                      // threads started that have not yet taken a task
  std::deque<std::unique_ptr<detail::Task>> queue_;
  std::vector<std::thread> threads_;
  std::size_t joined_count_ = 0;
  int idle_ = 0;
  bool shutdown_ = false;
  std::string broken_;
  std::mutex join_mutex_;
};

}  // namespace pexec
