#pragma once
/// ProcessPoolExecutor: runs registered functions (see registry.hpp) in long-lived worker
/// processes, as Python's concurrent.futures.ProcessPoolExecutor. Workers are started on demand
/// up to max_workers by executing this program image again (see process_worker.hpp: main() must
/// call pexec::freeze_support() first), and are talked to over pipes.
///
/// One manager thread owns every worker (Python's executor manager thread): it hands queued calls
/// to idle workers, reads their results, replaces workers that reached max_tasks_per_child, and
/// if a worker dies without answering it breaks the pool: every unfinished future gets
/// BrokenProcessPool and later submits throw it. A future becomes RUNNING when it is handed to
/// a worker (Python also marks up to one extra queued call as running; we do not).

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "pexec/cpu_count.hpp"
#include "pexec/detail/frames.hpp"
#include "pexec/detail/spawn_self.hpp"
#include "pexec/errors.hpp"
#include "pexec/future.hpp"
#include "pexec/map_results.hpp"
#include "pexec/process_worker.hpp"
#include "pexec/registry.hpp"

namespace pexec {

class ProcessPoolExecutor {
 public:
  /// `max_workers` defaults to process_cpu_count(); a worker exits after `max_tasks_per_child`
  /// calls (and is replaced on demand); `initializer`, a registered function, runs once at the
  /// start of each worker with `initargs` (Python's initargs: encoded once, sent to each worker
  /// once, so what every task shares need not travel with each task), and if it throws the
  /// pool is broken.
  explicit ProcessPoolExecutor(std::optional<int> max_workers = {}, std::optional<int> max_tasks_per_child = {},
                               void (*initializer)() = nullptr)
      : max_workers_(max_workers.value_or(default_max_workers())),
        max_tasks_per_child_(max_tasks_per_child.value_or(0)) {
    if (max_workers_ <= 0) throw std::invalid_argument("max_workers must be greater than 0");
    if (max_tasks_per_child && *max_tasks_per_child < 1)
      throw std::invalid_argument("max_tasks_per_child must be >= 1");
    if (initializer) initializer_ = detail::registered_name(initializer);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  template <class... P, class... A>
  ProcessPoolExecutor(std::optional<int> max_workers, std::optional<int> max_tasks_per_child, void (*initializer)(P...),
                      A&&... initargs)
      : ProcessPoolExecutor(max_workers, max_tasks_per_child) {
    static_assert(sizeof...(P) == sizeof...(A), "the initializer needs one initarg per parameter");
    initializer_ = detail::registered_name(initializer);
    nlohmann::json arguments = nlohmann::json::array();
    (arguments.push_back(nlohmann::json(static_cast<std::decay_t<P>>(std::forward<A>(initargs)))), ...);
    initargs_frame_ = detail::encode_frame({{"initargs", std::move(arguments)}});
  }
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;
  ~ProcessPoolExecutor() {
    shutdown(true);
    ::close(wake_fd_);
  }

  /// Schedules fn(args...) in a worker and returns its future. The task's exception comes back
  /// as RemoteError (its type name and message). Throws BrokenProcessPool on a broken pool and
  /// std::runtime_error("cannot schedule new futures after shutdown") after shutdown(). An
  /// argument that cannot be encoded fails the future with the encoder's exception, as CPython
  /// fails the future of an argument that cannot be pickled; submit() itself does not throw.
  template <class R, class... P, class... A>
  Future<R> submit(R (*fn)(P...), A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "submit needs one argument per parameter");
    const std::string& name = detail::registered_name(fn);
    nlohmann::json arguments = nlohmann::json::array();
    try {
      (arguments.push_back(nlohmann::json(static_cast<std::decay_t<P>>(std::forward<A>(args)))), ...);
    } catch (...) {
      return failed_submit<R>(std::current_exception());
    }
    return submit_request<R>(name, {{"args", std::move(arguments)}});
  }

  /// fn over `inputs` in input order (see MapResults); each task carries `chunksize` inputs. An
  /// input is the argument of a one-parameter fn, or a tuple of arguments. With `buffersize`,
  /// at most that many chunks are ahead and `inputs` is read lazily.
  template <class R, class... P, class Range>
  auto map(R (*fn)(P...), Range&& inputs, Timeout timeout = {}, int chunksize = 1,
           std::optional<std::ptrdiff_t> buffersize = {}) {
    // A function that returns nothing gives std::monostate results, as Python's give None.
    using Value = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
    if (chunksize < 1) throw std::invalid_argument("chunksize must be >= 1.");
    const std::string& name = detail::registered_name(fn);
    auto cursor = detail::make_cursor(std::forward<Range>(inputs));
    return MapResults<Value, std::vector<Value>>(
        [this, name, cursor, chunksize]() -> std::optional<Future<std::vector<Value>>> {
          if (cursor->at_end()) return std::nullopt;
          nlohmann::json chunk = nlohmann::json::array();
          while (static_cast<int>(chunk.size()) < chunksize && !cursor->at_end()) {
            if constexpr (sizeof...(P) == 1) {
              chunk.push_back(nlohmann::json::array({nlohmann::json(cursor->take())}));
            } else {
              chunk.push_back(nlohmann::json(cursor->take()));
            }
          }
          return submit_request<std::vector<Value>>(name, {{"chunk", std::move(chunk)}});
        },
        timeout, buffersize);
  }

  /// Stops accepting work. Queued calls still run unless `cancel_futures` cancels them; with
  /// `wait`, returns when every worker has exited. Safe to call more than once.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    std::vector<std::shared_ptr<detail::FutureCore>> cancelled;
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
      if (cancel_futures) {
        for (std::uint64_t id : queue_) {
          cancelled.push_back(pending_.at(id).future);
          pending_.erase(id);
        }
        queue_.clear();
      }
    }
    for (auto& future : cancelled) {
      if (future->cancel()) future->set_running_or_notify_cancel();
    }
    wake();
    if (!wait) return;
    std::lock_guard join_lock(join_mutex_);
    if (manager_.joinable()) manager_.join();
  }

  /// Python 3.14's terminate_workers(): shutdown(wait=false, cancel_futures=true), then SIGTERM
  /// to every live worker. Their request pipes are closed too, so a worker that handles SIGTERM
  /// finishes its task, reports it and exits. Unfinished futures get BrokenProcessPool.
  void terminate_workers() { force_shutdown(SIGTERM); }

  /// As terminate_workers(), with SIGKILL.
  void kill_workers() { force_shutdown(SIGKILL); }

  int max_workers() const { return max_workers_; }

  /// The pool size when none is given: process_cpu_count(), as Python 3.13.
  static int default_max_workers() { return process_cpu_count(); }

 private:
  /// A submitted call: its future, its encoded request, and how a response completes it.
  struct WorkItem {
    std::shared_ptr<detail::FutureCore> future;
    std::string request;
    std::function<void(const nlohmann::json& response)> deliver;
  };

  struct Worker {
    pid_t pid = -1;
    int index = 0;
    int to_worker = -1;    // requests; closed to ask the worker to exit
    int from_worker = -1;  // responses; EOF when the worker exits
    std::string buffer;
    std::optional<std::uint64_t> task;
    int tasks_done = 0;
    bool told_to_exit = false;
  };

  /// submit() of a call whose arguments could not be encoded (`error`): what submit() throws on a
  /// broken or shut-down pool, else a future that holds `error`.
  template <class R>
  Future<R> failed_submit(std::exception_ptr error) {
    {
      std::lock_guard lock(mutex_);
      if (!broken_.empty()) throw BrokenProcessPool(broken_, broken_cause_);
      if (shutdown_) throw std::runtime_error("cannot schedule new futures after shutdown");
    }
    Future<R> future;
    future.set_running_or_notify_cancel();
    future.set_exception(error);
    return future;
  }

  template <class R>
  Future<R> submit_request(const std::string& name, nlohmann::json request) {
    std::uint64_t id;
    {
      std::lock_guard lock(mutex_);
      id = next_id_++;
    }
    request["id"] = id;
    request["fn"] = name;
    std::string frame;
    try {
      frame = detail::encode_frame(request);
    } catch (...) {
      return failed_submit<R>(std::current_exception());
    }
    Future<R> future;
    std::lock_guard lock(mutex_);
    if (!broken_.empty()) throw BrokenProcessPool(broken_, broken_cause_);
    if (shutdown_) throw std::runtime_error("cannot schedule new futures after shutdown");
    pending_.emplace(
        id, WorkItem{std::static_pointer_cast<detail::FutureCore>(future.core().shared_from_this()), std::move(frame),
                     [future](const nlohmann::json& response) { complete<R>(future, response); }});
    queue_.push_back(id);
    if (!manager_.joinable()) {
      try {
        manager_ = std::thread([this] { manage(); });
      } catch (...) {  // no thread to be had: nothing would ever run the call
        queue_.pop_back();
        pending_.erase(id);
        throw;
      }
    }
    wake();
    return future;
  }

  template <class R>
  static void complete(const Future<R>& future, const nlohmann::json& response) {
    try {
      if (response.contains("error")) {
        const auto& error = response.at("error");
        throw RemoteError(error.at("type").get<std::string>(), error.at("message").get<std::string>(),
                          error.value("traceback", std::string()));
      }
      if constexpr (std::is_void_v<R>) {
        future.set_result();
      } else if constexpr (std::is_same_v<R, std::vector<std::monostate>>) {
        future.set_result(R(response.at("result").size()));  // a chunk of calls that return nothing
      } else {
        future.set_result(response.at("result").get<R>());
      }
    } catch (const InvalidStateError&) {
      throw;
    } catch (...) {
      future.set_exception(std::current_exception());
    }
  }

  void wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }

  void force_shutdown(int signal_number) {
    shutdown(false, true);
    {
      std::lock_guard lock(mutex_);
      for (Worker& worker : workers_) {
        ::kill(worker.pid, signal_number);
        tell_to_exit(worker);
      }
    }
    wake();
  }

  void tell_to_exit(Worker& worker) {
    if (worker.to_worker >= 0) ::close(worker.to_worker);
    worker.to_worker = -1;
    worker.told_to_exit = true;
  }

  // The manager thread: everything about workers happens here.
  void manage() {
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);  // a dead worker's pipe gives EPIPE instead

    std::unique_lock lock(mutex_);
    while (true) {
      std::vector<std::pair<WorkItem, nlohmann::json>> completed;
      std::vector<WorkItem> failed;
      if (broken_.empty()) dispatch(failed);
      bool busy = std::any_of(workers_.begin(), workers_.end(), [](const Worker& w) { return w.task.has_value(); });
      if (shutdown_ && queue_.empty() && !busy) {
        for (Worker& worker : workers_) tell_to_exit(worker);
        if (workers_.empty()) break;
      }

      std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}};
      for (Worker& worker : workers_) fds.push_back({worker.from_worker, POLLIN, 0});
      std::string cause = broken_cause_;
      lock.unlock();
      publish(completed, failed, cause);
      ::poll(fds.data(), fds.size(), -1);
      std::uint64_t ignored;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &ignored, sizeof ignored);
      lock.lock();

      for (auto it = workers_.begin(); it != workers_.end();) {
        auto fd = std::find_if(fds.begin(), fds.end(), [&](const pollfd& p) { return p.fd == it->from_worker; });
        if (fd == fds.end() || fd->revents == 0) {
          ++it;
          continue;
        }
        bool alive = read_responses(*it, completed);
        if (alive) {
          ++it;
          continue;
        }
        int status = 0;
        while (::waitpid(it->pid, &status, 0) < 0 && errno == EINTR) {
        }
        ::close(it->from_worker);
        if (it->to_worker >= 0) ::close(it->to_worker);
        bool expected = it->told_to_exit && !it->task;
        it = workers_.erase(it);
        if (!expected && broken_.empty()) break_pool(failed, how_it_ended(status));
      }
      cause = broken_cause_;
      lock.unlock();
      publish(completed, failed, cause);
      lock.lock();
    }
  }

  // Hands queued calls to idle workers, starting workers as needed (with the lock held).
  void dispatch(std::vector<WorkItem>& failed) {
    while (!queue_.empty()) {
      Worker* idle = nullptr;
      for (Worker& worker : workers_) {
        if (!worker.task && !worker.told_to_exit) {
          idle = &worker;
          break;
        }
      }
      if (!idle && static_cast<int>(workers_.size()) < max_workers_) {
        try {
          idle = &spawn_worker();
        } catch (const std::exception& e) {
          log_error(std::string("cannot start a worker process: ") + e.what());
          // The workers there are take the work; with none, nothing can run it.
          if (workers_.empty()) break_pool(failed, "could not be started");
          return;
        }
      }
      if (!idle) return;
      std::uint64_t id = queue_.front();
      queue_.pop_front();
      WorkItem& item = pending_.at(id);
      if (!item.future->set_running_or_notify_cancel()) {
        pending_.erase(id);
        continue;
      }
      idle->task = id;
      if (!detail::write_all(idle->to_worker, item.request)) {
        // The worker is gone; its EOF will break the pool. Drain the SIGPIPE we blocked.
        timespec zero{0, 0};
        sigset_t pipe_signal;
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        sigtimedwait(&pipe_signal, nullptr, &zero);
      }
    }
  }

  // Reads what a worker sent; false at EOF (the worker has exited).
  bool read_responses(Worker& worker, std::vector<std::pair<WorkItem, nlohmann::json>>& completed) {
    std::vector<nlohmann::json> responses;
    if (detail::read_frames(worker.from_worker, worker.buffer, responses) <= 0) return false;
    for (nlohmann::json& response : responses) {
      std::uint64_t id = response.at("id").get<std::uint64_t>();
      worker.task.reset();
      if (max_tasks_per_child_ > 0 && ++worker.tasks_done >= max_tasks_per_child_) tell_to_exit(worker);
      auto found = pending_.find(id);
      if (found == pending_.end()) continue;
      completed.emplace_back(std::move(found->second), std::move(response));
      pending_.erase(found);
    }
    return true;
  }

  /// How a worker's wait status says it ended, as newer CPython's BrokenProcessPool cause
  /// puts it: "terminated abruptly with exit code 99", "... by signal SIGKILL".
  static std::string how_it_ended(int status) {
    if (WIFSIGNALED(status)) {
      const char* name = sigabbrev_np(WTERMSIG(status));
      return std::string("terminated abruptly by signal ") +
             (name ? std::string("SIG") + name : std::to_string(WTERMSIG(status)));
    }
    return "terminated abruptly with exit code " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }

  // A worker died unannounced (`how`, see how_it_ended): Python's _terminate_broken (with the
  // lock held). The messages are CPython's, with how the worker ended.
  void break_pool(std::vector<WorkItem>& failed, const std::string& how) {
    broken_ = "A child process " + how + ", the process pool is not usable anymore";
    broken_cause_ = "A worker process " + how;
    shutdown_ = true;
    for (auto& [id, item] : pending_) failed.push_back(std::move(item));
    pending_.clear();
    queue_.clear();
    for (Worker& worker : workers_) {
      ::kill(worker.pid, SIGTERM);
      tell_to_exit(worker);
      worker.task.reset();
    }
  }

  // Completes futures with the lock released: their callbacks may call back into the pool.
  static void publish(std::vector<std::pair<WorkItem, nlohmann::json>>& completed, std::vector<WorkItem>& failed,
                      const std::string& cause) {
    for (auto& [item, response] : completed) {
      try {
        item.deliver(response);
      } catch (const InvalidStateError&) {
      }
    }
    for (auto& item : failed) {
      try {
        // One exception object per future (the reference's Q7).
        item.future->set_exception(std::make_exception_ptr(BrokenProcessPool(
            "A process in the process pool was terminated abruptly while the future was running or pending. (" + cause +
                ")",
            cause)));
      } catch (const InvalidStateError&) {
        // cancelled: Python skips these too
      }
    }
    completed.clear();
    failed.clear();
  }

  Worker& spawn_worker() {
    int index = 0;
    while (std::any_of(workers_.begin(), workers_.end(), [&](const Worker& w) { return w.index == index; })) ++index;

    detail::SelfWorker started =
        detail::spawn_self(detail::kWorkerVariable,
                           std::to_string(index) + ":" + std::to_string(max_tasks_per_child_) + ":" + initializer_);
    Worker worker;
    worker.pid = started.pid;
    worker.index = index;
    worker.to_worker = started.to_worker;
    worker.from_worker = started.from_worker;
    // The initializer's arguments are the worker's first message (a failed write means the
    // worker is gone: its EOF breaks the pool).
    if (!initializer_.empty()) detail::write_all(worker.to_worker, initargs_frame_);
    workers_.push_back(std::move(worker));
    return workers_.back();
  }

  const int max_workers_;
  const int max_tasks_per_child_;
  std::string initializer_;
  std::string initargs_frame_ = detail::encode_frame({{"initargs", nlohmann::json::array()}});
  int wake_fd_ = -1;

  std::mutex mutex_;
  std::map<std::uint64_t, WorkItem> pending_;  // submitted and not finished: queued or running
  std::deque<std::uint64_t> queue_;            // not yet handed to a worker
  std::list<Worker> workers_;
  std::uint64_t next_id_ = 0;
  bool shutdown_ = false;
  std::string broken_;
  std::string broken_cause_;  // how the worker that broke the pool ended
  std::thread manager_;
  std::mutex join_mutex_;
};

}  // namespace pexec
