#pragma once
// Captures what the futures library logs, for the duration of a scope.

#include <mutex>
#include <string>
#include <vector>

#include "pexec/logging.hpp"

class LogCapture {
 public:
  LogCapture() {
    previous_ = pexec::set_log_handler([this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { pexec::set_log_handler(previous_); }
  std::string text() {
    std::lock_guard lock(mutex_);
    std::string all;
    for (auto& line : lines_) all += line + "\n";
    return all;
  }

 private:
  pexec::LogHandler previous_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};
