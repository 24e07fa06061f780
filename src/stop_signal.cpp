#include "stop_signal.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace pexec::cli {

StopSignal::StopSignal() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

StopSignal::~StopSignal() { ::close(fd_); }

void StopSignal::raise() noexcept {
  raised_.store(true, std::memory_order_relaxed);
  std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(fd_, &one, sizeof one);
}

void StopSignal::reset() noexcept {
  raised_.store(false, std::memory_order_relaxed);
  std::uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(fd_, &count, sizeof count);
}

JobStops& running_jobs_stop() {
  static JobStops instance;
  return instance;
}

std::chrono::steady_clock::time_point steady_after(double seconds, std::chrono::steady_clock::time_point from) {
  using clock = std::chrono::steady_clock;
  // Anything beyond a century is "never" (and would overflow the clock's nanoseconds).
  constexpr double kNever = 100.0 * 365 * 24 * 3600;
  if (!(seconds < kNever)) return clock::time_point::max();
  return from + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace pexec::cli
