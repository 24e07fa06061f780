// The job list: lines or NUL-separated items, empty items skipped, files checked before any job.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "job_list_reader.hpp"
#include "stop_signal.hpp"

using namespace pexec::cli;

namespace {
std::string temp_file(const std::string& content) {
  char path[] = "/tmp/pexec-list-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(fd);
  return path;
}
std::vector<std::string> read_all(JobListReader& reader) {
  std::vector<std::string> items;
  while (auto item = reader.next()) items.push_back(*item);
  return items;
}
}  // namespace

TEST_CASE("lines become items; empty lines are skipped; a last line without newline counts") {
  std::string path = temp_file("a\n\nb c\n\nlast");
  auto reader = JobListReader::from_files({path}, '\n', -1);
  CHECK(read_all(reader) == std::vector<std::string>{"a", "b c", "last"});
  std::remove(path.c_str());
}

TEST_CASE("NUL-separated items may hold newlines") {
  std::string path = temp_file(std::string("one\ntwo\0three\0\0", 16));
  auto reader = JobListReader::from_files({path}, '\0', -1);
  CHECK(read_all(reader) == std::vector<std::string>{"one\ntwo", "three"});
  std::remove(path.c_str());
}

TEST_CASE("several files are read in order") {
  std::string a = temp_file("1\n2\n"), b = temp_file("3\n");
  auto reader = JobListReader::from_files({a, b}, '\n', -1);
  CHECK(read_all(reader) == std::vector<std::string>{"1", "2", "3"});
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST_CASE("a file that cannot be opened fails at once, naming it") {
  CHECK_THROWS_WITH_AS(JobListReader::from_files({"/nonexistent/list"}, '\n', -1),
                       "cannot read /nonexistent/list: No such file or directory", InputError);
}

TEST_CASE("a long list is read in pieces, item by item") {
  std::string content;
  for (int i = 0; i < 100000; ++i) content += std::to_string(i) + "\n";
  std::string path = temp_file(content);
  auto reader = JobListReader::from_files({path}, '\n', -1);
  auto first = reader.next();
  CHECK(*first == "0");
  std::size_t count = 1;
  std::string last;
  while (auto item = reader.next()) {
    ++count;
    last = *item;
  }
  CHECK(count == 100000);
  CHECK(last == "99999");
  std::remove(path.c_str());
}

TEST_CASE("items from ::: skip empty ones") {
  auto reader = JobListReader::from_items({"a", "", "b"});
  CHECK(read_all(reader) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a raised stop ends reading even while the input stays open") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  REQUIRE(write(fds[1], "x\ny", 3) == 3);
  StopSignal stop;
  int saved_stdin = dup(0);
  dup2(fds[0], 0);
  auto reader = JobListReader::from_files({"-"}, '\n', stop.fd());
  dup2(saved_stdin, 0);
  close(saved_stdin);
  CHECK(*reader.next() == "x");
  stop.raise();
  CHECK_FALSE(reader.next().has_value());  // would block forever without the stop
  close(fds[0]);
  close(fds[1]);
}
