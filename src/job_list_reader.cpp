#include "job_list_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pexec::cli {

JobListReader JobListReader::from_items(std::vector<std::string> items) {
  JobListReader reader;
  for (auto& item : items) {
    if (!item.empty()) reader.items_.push_back(std::move(item));
  }
  return reader;
}

JobListReader JobListReader::from_files(const std::vector<std::string>& paths, char delimiter, int stop_fd) {
  JobListReader reader;
  reader.delimiter_ = delimiter;
  reader.stop_fd_ = stop_fd;
  for (const std::string& path : paths) {
    int fd = path == "-" ? ::dup(STDIN_FILENO) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError("cannot read " + path + ": " + std::strerror(errno));
    if (path == "-") ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    reader.sources_.push_back({path == "-" ? "standard input" : path, fd});
  }
  return reader;
}

JobListReader::JobListReader(JobListReader&& other) noexcept { *this = std::move(other); }

JobListReader& JobListReader::operator=(JobListReader&& other) noexcept {
  std::swap(items_, other.items_);
  std::swap(next_item_, other.next_item_);
  std::swap(sources_, other.sources_);
  std::swap(current_, other.current_);
  std::swap(delimiter_, other.delimiter_);
  std::swap(stop_fd_, other.stop_fd_);
  std::swap(buffer_, other.buffer_);
  std::swap(buffer_start_, other.buffer_start_);
  return *this;
}

JobListReader::~JobListReader() {
  for (Source& source : sources_) ::close(source.fd);
}

std::optional<std::string> JobListReader::next() {
  if (next_item_ < items_.size()) return std::move(items_[next_item_++]);
  while (current_ < sources_.size()) {
    std::size_t end = buffer_.find(delimiter_, buffer_start_);
    if (end != std::string::npos) {
      std::string item = buffer_.substr(buffer_start_, end - buffer_start_);
      buffer_start_ = end + 1;
      if (!item.empty()) return item;
      continue;
    }
    if (fill()) continue;
    // End of this file: a last item without a delimiter still counts.
    std::string item = buffer_.substr(buffer_start_);
    buffer_.clear();
    buffer_start_ = 0;
    ++current_;
    if (!item.empty()) return item;
  }
  return std::nullopt;
}

bool JobListReader::fill() {
  // Keep only the unread tail, so the buffer holds at most one partial item plus one read.
  buffer_.erase(0, buffer_start_);
  buffer_start_ = 0;
  const Source& source = sources_[current_];
  while (true) {
    if (stop_fd_ >= 0) {
      pollfd fds[2] = {{source.fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        throw InputError("cannot read " + source.name + ": " + std::strerror(errno));
      }
      if (fds[1].revents & POLLIN) {  // stopped: behave as if every file ended here
        current_ = sources_.size();
        buffer_.clear();
        return false;
      }
    }
    char chunk[65536];
    ssize_t n = ::read(source.fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InputError("cannot read " + source.name + ": " + std::strerror(errno));
    if (n == 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

}  // namespace pexec::cli
