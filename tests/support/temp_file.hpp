#pragma once
// temp_file(): a file under /tmp holding `content`, for tests that read job lists from files.

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

/// Creates /tmp/pexec-test-XXXXXX with `content` and returns its path; the test removes it.
inline std::string temp_file(const std::string& content) {
  char path[] = "/tmp/pexec-test-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}
