#pragma once
/// The library's logger, Python's "concurrent.futures" logger: errors that cannot be raised to
/// anyone (a throwing done-callback, a failing initializer) are written here, to stderr by default.

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace pexec {

using LogHandler = std::function<void(std::string_view message)>;

namespace detail {
struct Logger {
  std::mutex mutex;
  LogHandler handler;
};
inline Logger& logger() {
  static Logger instance;
  return instance;
}
}  // namespace detail

/// Replaces where log lines go (an empty handler restores stderr); returns the previous handler.
inline LogHandler set_log_handler(LogHandler handler) {
  auto& log = detail::logger();
  std::lock_guard lock(log.mutex);
  std::swap(log.handler, handler);
  return handler;
}

/// Writes one line to the library's log.
inline void log_error(std::string_view message) {
  auto& log = detail::logger();
  std::lock_guard lock(log.mutex);
  if (log.handler) {
    log.handler(message);
  } else {
    std::string line = "pexec: ";
    line.append(message).push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

}  // namespace pexec
