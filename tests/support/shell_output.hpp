#pragma once
// shell_output(): runs a line with /bin/sh and returns what it printed on stdout and its exit
// status, for tests that drive shells, tmux or script(1).

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

/// What `line` prints on stdout, and its exit status (-1 if it did not exit).
inline std::pair<std::string, int> shell_output(const std::string& line) {
  FILE* pipe = popen(line.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen: " + line);
  std::string out;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  int status = pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}
