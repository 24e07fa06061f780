#include "reporter.hpp"

#include <unistd.h>

#include <cerrno>

namespace pexec::cli {

namespace {
constexpr std::size_t kLargeBlock = 64 * 1024;  // written straight from the job's result
}

bool write_fully(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void Reporter::put(int fd, std::string_view data) {
  if (data.empty()) return;
  if (data.size() >= kLargeBlock) {
    flush();
    if (!write_fully(fd, data) && fd == STDOUT_FILENO) stdout_closed_ = true;
    return;
  }
  if (pending_.empty() || pending_.back().first != fd) pending_.emplace_back(fd, std::string());
  pending_.back().second.append(data);
}

bool Reporter::flush() {
  for (auto& [fd, data] : pending_) {
    if (!write_fully(fd, data) && fd == STDOUT_FILENO) stdout_closed_ = true;
  }
  pending_.clear();
  return !stdout_closed_;
}

}  // namespace pexec::cli
