#include "job_list_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
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

JobListReader JobListReader::from_files(const std::vector<std::string>& paths, char delimiter) {
  JobListReader reader;
  reader.delimiter_ = delimiter;
  for (const std::string& path : paths) {
    int fd;
    if (path == "-") {
      fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    } else {
      // O_NONBLOCK: opening a FIFO must not wait for its writer (the engine's poll does). The
      // open file description is ours alone, so it may stay non-blocking.
      fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    }
    if (fd < 0) throw InputError("cannot read " + path + ": " + std::strerror(errno));
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
  std::swap(current_ended_, other.current_ended_);
  std::swap(delimiter_, other.delimiter_);
  std::swap(buffer_, other.buffer_);
  std::swap(buffer_start_, other.buffer_start_);
  std::swap(searched_, other.searched_);
  return *this;
}

JobListReader::~JobListReader() {
  for (Source& source : sources_) ::close(source.fd);
}

std::optional<std::string> JobListReader::next() {
  if (next_item_ < items_.size()) return std::move(items_[next_item_++]);
  while (current_ < sources_.size()) {
    std::size_t end = buffer_.find(delimiter_, std::max(buffer_start_, searched_));
    if (end != std::string::npos) {
      std::string item = buffer_.substr(buffer_start_, end - buffer_start_);
      buffer_start_ = end + 1;
      if (!item.empty()) return item;
      continue;
    }
    searched_ = buffer_.size();
    if (!current_ended_) return std::nullopt;  // fill() must read more
    // End of this file: a last item without a delimiter still counts.
    std::string item = buffer_.substr(buffer_start_);
    buffer_.clear();
    buffer_start_ = searched_ = 0;
    ::close(sources_[current_].fd);
    sources_[current_].fd = -1;
    ++current_;
    current_ended_ = false;
    if (!item.empty()) return item;
  }
  return std::nullopt;
}

bool JobListReader::at_end() const { return next_item_ >= items_.size() && current_ >= sources_.size(); }

int JobListReader::fd() const { return current_ < sources_.size() && !current_ended_ ? sources_[current_].fd : -1; }

void JobListReader::fill() {
  if (fd() < 0) return;
  const Source& source = sources_[current_];
  // Keep only the unread tail, so the buffer holds at most one partial item plus one read.
  if (buffer_start_ > 0) {
    buffer_.erase(0, buffer_start_);
    searched_ -= std::min(searched_, buffer_start_);
    buffer_start_ = 0;
  }
  if (buffer_.size() > kMaxItemBytes) {
    throw InputError(source.name + ": an item is longer than " + std::to_string(kMaxItemBytes) + " bytes");
  }
  char chunk[65536];
  ssize_t n;
  do {
    n = ::read(source.fd, chunk, sizeof chunk);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return;  // a FIFO without data yet
  if (n < 0) throw InputError("cannot read " + source.name + ": " + std::strerror(errno));
  if (n == 0) {
    current_ended_ = true;
    return;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
}

std::optional<std::string> JobListReader::next_blocking() {
  while (true) {
    if (auto item = next()) return item;
    if (at_end()) return std::nullopt;
    pollfd p{fd(), POLLIN, 0};
    ::poll(&p, 1, -1);
    fill();
  }
}

}  // namespace pexec::cli
