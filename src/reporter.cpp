#include "reporter.hpp"

#include <unistd.h>

#include <cerrno>
#include <optional>

#include "pexec/detail/write_all.hpp"

namespace pexec::cli {

namespace {
constexpr std::size_t kLargeBlock = 64 * 1024;  // written straight from the job's result
}

namespace {
/// Writes to stdout and stderr share them with live jobs and the bar (SharedOutput); a report
/// file is this reporter's own.
bool shared(int fd) { return fd == STDOUT_FILENO || fd == STDERR_FILENO; }
}  // namespace

void Reporter::write_to(int fd, std::string_view data, SharedOutput::Writer* writer) {
  if (fd == fd_ && error_) return;  // once a write to the report's fd failed, nothing more goes there
  bool written = writer ? writer->write(fd, data) : detail::write_all(fd, data);
  if (!written && fd == fd_) error_ = errno ? errno : EIO;
}

void Reporter::put(int fd, std::string_view data) {
  if (data.empty()) return;
  if (data.size() >= kLargeBlock) {
    flush();
    if (!shared(fd)) return write_to(fd, data, nullptr);
    SharedOutput::Writer writer(SharedOutput::get());
    write_to(fd, data, &writer);
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
  std::optional<SharedOutput::Writer> writer;  // one lock, and one redraw of the bar, per flush
  for (auto& [fd, data] : pending_) {
    if (shared(fd) && !writer) writer.emplace(SharedOutput::get());
    write_to(fd, data, shared(fd) ? &*writer : nullptr);
  }
  pending_.clear();
  return error_;
}

}  // namespace pexec::cli
