#include "reporter.hpp"

#include <unistd.h>

#include "pexec/detail/write_all.hpp"

namespace pexec::cli {

namespace {
constexpr std::size_t kLargeBlock = 64 * 1024;  // written straight from the job's result
}

void Reporter::put(int fd, std::string_view data) {
  if (data.empty()) return;
  if (data.size() >= kLargeBlock) {
    flush();
    if (!detail::write_all(fd, data) && fd == STDOUT_FILENO) stdout_closed_ = true;
    return;
  }
  if (pending_.empty() || pending_.back().first != fd) pending_.emplace_back(fd, std::string());
  pending_.back().second.append(data);
}

bool Reporter::flush() {
  for (auto& [fd, data] : pending_) {
    if (!detail::write_all(fd, data) && fd == STDOUT_FILENO) stdout_closed_ = true;
  }
  pending_.clear();
  return !stdout_closed_;
}

}  // namespace pexec::cli
