#include "input_source.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace pexec::cli {

InputSource InputSource::from_items(std::vector<std::string> items) {
  InputSource source;
  source.name_ = ":::";
  source.items_ = std::move(items);
  return source;
}

InputSource InputSource::from_file(const std::string& path, std::string delimiter) {
  InputSource source;
  source.delimiter_ = std::move(delimiter);
  source.name_ = path == "-" ? "standard input" : path;
  if (path == "-") {
    source.fd_ = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  } else {
    // O_NONBLOCK: opening a FIFO must not wait for its writer (the engine's poll does). The
    // open file description is ours alone, so it may stay non-blocking.
    source.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  }
  if (source.fd_ < 0) throw InputError("cannot read " + path + ": " + std::strerror(errno));
  source.ended_ = false;
  return source;
}

InputSource::InputSource(InputSource&& other) noexcept { *this = std::move(other); }

InputSource& InputSource::operator=(InputSource&& other) noexcept {
  std::swap(name_, other.name_);
  std::swap(items_, other.items_);
  std::swap(next_item_, other.next_item_);
  std::swap(fd_, other.fd_);
  std::swap(ended_, other.ended_);
  std::swap(delimiter_, other.delimiter_);
  std::swap(buffer_, other.buffer_);
  std::swap(buffer_start_, other.buffer_start_);
  std::swap(searched_, other.searched_);
  return *this;
}

InputSource::~InputSource() { close_file(); }

void InputSource::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<std::string> InputSource::next() {
  if (next_item_ < items_.size()) return std::move(items_[next_item_++]);
  while (fd_ >= 0 || buffer_start_ < buffer_.size()) {
    std::size_t end = buffer_.find(delimiter_, std::max(buffer_start_, searched_));
    std::string item;
    if (end != std::string::npos) {
      item = buffer_.substr(buffer_start_, end - buffer_start_);
      buffer_start_ = end + delimiter_.size();
    } else {
      // A delimiter may have begun in the last bytes read.
      searched_ = buffer_.size() - std::min(buffer_.size(), delimiter_.size() - 1);
      if (!ended_) return std::nullopt;  // fill() must read more
      // The end: a last item without a delimiter still counts.
      item = buffer_.substr(buffer_start_);
      buffer_.clear();
      buffer_start_ = searched_ = 0;
      close_file();
    }
    if (delimiter_ == "\n" && item.ends_with('\r')) item.pop_back();
    if (!item.empty()) return item;
  }
  return std::nullopt;
}

bool InputSource::at_end() const { return next_item_ >= items_.size() && fd_ < 0 && buffer_start_ >= buffer_.size(); }

int InputSource::fd() const { return ended_ ? -1 : fd_; }

void InputSource::fill() {
  if (fd() < 0) return;
  // Keep only the unread tail, so the buffer holds at most one partial item plus one read.
  if (buffer_start_ > 0) {
    buffer_.erase(0, buffer_start_);
    searched_ -= std::min(searched_, buffer_start_);
    buffer_start_ = 0;
  }
  if (buffer_.size() > kMaxItemBytes) {
    throw InputError(name_ + ": an item is longer than " + std::to_string(kMaxItemBytes) + " bytes");
  }
  char chunk[65536];
  ssize_t n;
  do {
    n = ::read(fd_, chunk, sizeof chunk);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return;  // a FIFO without data yet
  if (n < 0) throw InputError("cannot read " + name_ + ": " + std::strerror(errno));
  if (n == 0) {
    ended_ = true;
    return;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
}

void InputSource::stop_reading() {
  if (ended_) return;
  // Only the complete items: cut the buffer after the last delimiter.
  std::size_t last = buffer_.rfind(delimiter_);
  buffer_.resize(last == std::string::npos || last < buffer_start_ ? buffer_start_ : last + delimiter_.size());
  ended_ = true;
}

}  // namespace pexec::cli
