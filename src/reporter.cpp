#include "reporter.hpp"

#include <unistd.h>

#include <cerrno>

#include "pexec/detail/write_all.hpp"

namespace pexec::cli {

namespace {
constexpr std::size_t kLargeBlock = 64 * 1024;  // written straight from the job's result
}

namespace {
/// write_all() that remembers the first errno of a failed write to `main_fd`; once that failed,
/// nothing more is written to it.
void write_to(int fd, std::string_view data, int main_fd, int& error) {
  if (fd == main_fd && error) return;
  if (!detail::write_all(fd, data) && fd == main_fd) error = errno ? errno : EIO;
}
}  // namespace

void Reporter::put(int fd, std::string_view data) {
  if (data.empty()) return;
  if (data.size() >= kLargeBlock) {
    flush();
    write_to(fd, data, fd_, error_);
    return;
  }
  if (pending_.empty() || pending_.back().first != fd) pending_.emplace_back(fd, std::string());
  pending_.back().second.append(data);
}

void Reporter::put_output(int fd, const CapturedOutput& output,
                          const std::function<void(std::string_view, std::string&)>& transform) {
  if (!transform && !output.spilled()) return put(fd, output.head());
  std::string converted;
  output.for_each_piece([&](std::string_view piece) {
    if (!transform) return put(fd, piece);
    converted.clear();
    transform(piece, converted);
    put(fd, converted);
  });
}

int Reporter::flush() {
  for (auto& [fd, data] : pending_) write_to(fd, data, fd_, error_);
  pending_.clear();
  return error_;
}

}  // namespace pexec::cli
