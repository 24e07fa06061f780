// The job list: lines or NUL-separated items, empty items skipped, files checked before any job.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "job_list_reader.hpp"

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
  while (auto item = reader.next_blocking()) items.push_back(*item);
  return items;
}
}  // namespace

TEST_CASE("lines become items, empty lines are skipped, a last line without newline counts") {
  std::string path = temp_file("a\n\nb c\n\nlast");
  auto reader = JobListReader::from_files({path}, '\n');
  CHECK(read_all(reader) == std::vector<std::string>{"a", "b c", "last"});
  std::remove(path.c_str());
}

TEST_CASE("NUL-separated items may hold newlines") {
  std::string path = temp_file(std::string("one\ntwo\0three\0\0", 16));
  auto reader = JobListReader::from_files({path}, '\0');
  CHECK(read_all(reader) == std::vector<std::string>{"one\ntwo", "three"});
  std::remove(path.c_str());
}

TEST_CASE("several files are read in order") {
  std::string a = temp_file("1\n2\n"), b = temp_file("3\n");
  auto reader = JobListReader::from_files({a, b}, '\n');
  CHECK(read_all(reader) == std::vector<std::string>{"1", "2", "3"});
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST_CASE("a file that cannot be opened fails at once, naming it") {
  CHECK_THROWS_WITH_AS(JobListReader::from_files({"/nonexistent/list"}, '\n'),
                       "cannot read /nonexistent/list: No such file or directory", InputError);
}

TEST_CASE("a long list is read in pieces, item by item") {
  std::string content;
  for (int i = 0; i < 100000; ++i) content += std::to_string(i) + "\n";
  std::string path = temp_file(content);
  auto reader = JobListReader::from_files({path}, '\n');
  auto first = reader.next_blocking();
  CHECK(*first == "0");
  std::size_t count = 1;
  std::string last;
  while (auto item = reader.next_blocking()) {
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

TEST_CASE("next() never waits: an open pipe without a whole item gives nothing until fill()") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  REQUIRE(write(fds[1], "x\ny", 3) == 3);
  int saved_stdin = dup(0);
  dup2(fds[0], 0);
  auto reader = JobListReader::from_files({"-"}, '\n');
  dup2(saved_stdin, 0);
  close(saved_stdin);
  close(fds[0]);
  CHECK_FALSE(reader.next().has_value());  // nothing read yet
  CHECK(reader.fd() >= 0);
  reader.fill();
  CHECK(*reader.next() == "x");
  CHECK_FALSE(reader.next().has_value());  // "y" may go on: the pipe is still open
  CHECK_FALSE(reader.at_end());
  close(fds[1]);
  reader.fill();
  CHECK(*reader.next() == "y");
  CHECK_FALSE(reader.next().has_value());
  CHECK(reader.at_end());
  CHECK(reader.fd() == -1);
}

TEST_CASE("a FIFO without a writer opens at once") {
  std::string path = "/tmp/pexec-fifo-" + std::to_string(getpid());
  REQUIRE(mkfifo(path.c_str(), 0600) == 0);
  auto reader = JobListReader::from_files({path}, '\n');  // would block in open() otherwise
  CHECK_FALSE(reader.next().has_value());
  CHECK_FALSE(reader.at_end());
  std::remove(path.c_str());
}

TEST_CASE("an item longer than the limit is an input error, not endless memory") {
  auto reader = JobListReader::from_files({"/dev/zero"}, '\n');
  CHECK_THROWS_WITH_AS(reader.next_blocking(), "/dev/zero: an item is longer than 134217728 bytes", InputError);
}
