#pragma once
// Whether jobs left processes behind.

#include <cstdlib>
#include <string>

/// Whether a process whose command line contains `command` is alive ("[s]leep": so that the
/// pgrep's own shell, whose command line holds the pattern, does not match itself).
inline bool process_alive(const std::string& command) {
  return std::system(("pgrep -f '[" + command.substr(0, 1) + "]" + command.substr(1) + "' > /dev/null").c_str()) == 0;
}
