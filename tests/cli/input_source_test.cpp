// One input source: lines or items ending at any delimiter, empty items skipped, CRLF read as LF,
// files checked before any job, never a wait.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "input_source.hpp"
#include "temp_file.hpp"

using namespace pexec::cli;

namespace {
/// next(), waiting for the source's fd as the engine would.
std::optional<std::string> next_blocking(InputSource& source) {
  while (true) {
    if (auto item = source.next()) return item;
    if (source.at_end()) return std::nullopt;
    pollfd p{source.fd(), POLLIN, 0};
    poll(&p, 1, -1);
    source.fill();
  }
}
std::vector<std::string> read_all(InputSource& source) {
  std::vector<std::string> items;
  while (auto item = next_blocking(source)) items.push_back(*item);
  return items;
}
}  // namespace

TEST_CASE("lines become items, empty lines are skipped, a CR before LF is dropped, a last line counts") {
  std::string path = temp_file("a\r\n\r\nb c\n\nmid\rdle\nlast");
  auto reader = InputSource::from_file(path, "\n");
  CHECK(read_all(reader) == std::vector<std::string>{"a", "b c", "mid\rdle", "last"});
  std::remove(path.c_str());
}

TEST_CASE("NUL-separated items may hold newlines") {
  std::string path = temp_file(std::string("one\ntwo\0three\0\0", 16));
  auto reader = InputSource::from_file(path, std::string(1, '\0'));
  CHECK(read_all(reader) == std::vector<std::string>{"one\ntwo", "three"});
  std::remove(path.c_str());
}

TEST_CASE("a delimiter of several bytes is found across reads") {
  std::string content;
  for (int i = 0; i < 30000; ++i) content += std::to_string(i) + "<->";
  std::string path = temp_file(content);
  auto reader = InputSource::from_file(path, "<->");
  auto items = read_all(reader);
  REQUIRE(items.size() == 30000);
  CHECK(items[12345] == "12345");
  CHECK(items.back() == "29999");
  std::remove(path.c_str());
}

TEST_CASE("a file that cannot be opened fails at once, naming it") {
  CHECK_THROWS_WITH_AS(InputSource::from_file("/nonexistent/list", "\n"),
                       "cannot read /nonexistent/list: No such file or directory", InputError);
}

TEST_CASE("a long list is read in pieces, item by item") {
  std::string content;
  for (int i = 0; i < 100000; ++i) content += std::to_string(i) + "\n";
  std::string path = temp_file(content);
  auto reader = InputSource::from_file(path, "\n");
  auto first = next_blocking(reader);
  CHECK(*first == "0");
  std::size_t count = 1;
  std::string last;
  while (auto item = next_blocking(reader)) {
    ++count;
    last = *item;
  }
  CHECK(count == 100000);
  CHECK(last == "99999");
  std::remove(path.c_str());
}

TEST_CASE("items from ::: are kept as typed, empty ones too") {
  auto reader = InputSource::from_items({"a", "", "b"});
  CHECK(read_all(reader) == std::vector<std::string>{"a", "", "b"});
}

TEST_CASE("next() never waits: an open pipe without a whole item gives nothing until fill()") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  REQUIRE(write(fds[1], "x\ny", 3) == 3);
  int saved_stdin = dup(0);
  dup2(fds[0], 0);
  auto reader = InputSource::from_file("-", "\n");
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
  auto reader = InputSource::from_file(path, "\n");  // would block in open() otherwise
  CHECK_FALSE(reader.next().has_value());
  CHECK_FALSE(reader.at_end());
  std::remove(path.c_str());
}

TEST_CASE("an item longer than the limit is an input error, not endless memory") {
  auto reader = InputSource::from_file("/dev/zero", "\n");
  CHECK_THROWS_WITH_AS(next_blocking(reader), "/dev/zero: an item is longer than 134217728 bytes", InputError);
}

TEST_CASE("stop_reading keeps the complete items and drops a partial one") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  REQUIRE(write(fds[1], "a\nb\npart", 8) == 8);
  auto reader = InputSource::from_file("/proc/self/fd/" + std::to_string(fds[0]), "\n");
  close(fds[0]);
  reader.fill();
  CHECK(*reader.next() == "a");
  reader.stop_reading();
  CHECK(reader.fd() == -1);
  CHECK(*reader.next() == "b");
  CHECK_FALSE(reader.next().has_value());
  CHECK(reader.at_end());
  close(fds[1]);
}
