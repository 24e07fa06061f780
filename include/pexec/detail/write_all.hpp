#pragma once
// write_all(): one write(2) is not promised to take all of a buffer; this loops until it has.

#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace pexec::detail {

/// Writes all of `data` to `fd`; false on an error such as EPIPE (the reader is gone).
inline bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace pexec::detail
