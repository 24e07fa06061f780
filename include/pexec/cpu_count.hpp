#pragma once
/// process_cpu_count(): the CPUs this process may run on, as Python's os.process_cpu_count().
/// Both pools derive their default worker counts from it.

#include <sched.h>

#include <thread>

namespace pexec {

/// The size of this process's CPU affinity mask; hardware_concurrency() if unknown; at least 1.
inline int process_cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? static_cast<int>(hardware) : 1;
}

}  // namespace pexec
