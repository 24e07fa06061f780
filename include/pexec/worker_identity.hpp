#pragma once
/// Which pool worker the calling code runs in: a thread pool thread's logical name
/// ("ThreadPoolExecutor-0_1", kept whole because Linux cuts OS thread names at 15 bytes), and
/// the worker's index within its pool (0..max_workers-1) for thread and process workers alike.

#include <string>

namespace pexec {

namespace detail {
struct WorkerIdentity {
  std::string name;
  int index = -1;
};
inline WorkerIdentity& this_worker() {
  thread_local WorkerIdentity identity;
  return identity;
}
}  // namespace detail

/// The logical name of the pool worker running the caller, or "" outside any pool worker.
inline const std::string& current_worker_name() { return detail::this_worker().name; }

/// The caller's worker index within its pool (0-based), or -1 outside any pool worker.
inline int current_worker_index() { return detail::this_worker().index; }

}  // namespace pexec
