// Input sources made into jobs' arguments with GNU parallel's meanings. The expected values are
// the outputs that parallel(1) and its tutorial document for the same constructs.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "job_list_reader.hpp"
#include "temp_file.hpp"

using namespace pexec::cli;

namespace {

using Sources = std::vector<std::vector<std::string>>;

/// A reader over ::: sources; `linked[i]` links source i to the one before (:::+).
JobListReader reader_of(const Sources& items, InputRules rules = {}, std::vector<bool> linked = {},
                        CommandTemplate command = CommandTemplate()) {
  std::vector<InputSource> sources;
  for (const auto& words : items) sources.push_back(InputSource::from_items(words));
  return JobListReader(std::move(sources), std::move(linked), std::move(rules), std::move(command));
}

/// Every job's arguments, each job's joined by a space (as `echo` would print them).
std::vector<std::string> jobs_of(JobListReader reader) {
  std::vector<std::string> jobs;
  while (auto args = reader.next_blocking()) {
    std::string line;
    for (const std::string& arg : *args) line += (line.empty() ? "" : " ") + arg;
    jobs.push_back(line);
  }
  return jobs;
}

using Jobs = std::vector<std::string>;

std::vector<std::string> numbers(int from, int to) {
  std::vector<std::string> words;
  for (int i = from; i <= to; ++i) words.push_back(std::to_string(i));
  return words;
}

}  // namespace

TEST_CASE("several sources give every combination, the last varying fastest") {
  // parallel echo ::: A B ::: 1 2
  CHECK(jobs_of(reader_of({{"A", "B"}, {"1", "2"}})) == Jobs{"A 1", "A 2", "B 1", "B 2"});
  CHECK(jobs_of(reader_of({{"A"}, {"1", "2"}, {"x", "y"}})) == Jobs{"A 1 x", "A 1 y", "A 2 x", "A 2 y"});
  CHECK(jobs_of(reader_of({{"A", "B"}, {}})).empty());  // an empty source: no combination
}

TEST_CASE("--link takes item i of each source, the shorter ones starting over") {
  InputRules link;
  link.link_all = true;
  // parallel --link echo ::: A B C ::: 1 2 3, and with a shorter second source
  CHECK(jobs_of(reader_of({{"A", "B", "C"}, {"1", "2", "3"}}, link)) == Jobs{"A 1", "B 2", "C 3"});
  CHECK(jobs_of(reader_of({{"A", "B", "C"}, {"1", "2"}}, link)) == Jobs{"A 1", "B 2", "C 1"});
}

TEST_CASE(":::+ links a source to the one before it, and the shortest decides") {
  CHECK(jobs_of(reader_of({{"A", "B", "C"}, {"1", "2"}}, {}, {false, true})) == Jobs{"A 1", "B 2"});
  // Linked pairs crossed with a third source.
  CHECK(jobs_of(reader_of({{"A", "B"}, {"1", "2"}, {"x", "y"}}, {}, {false, true, false})) ==
        Jobs{"A 1 x", "A 1 y", "B 2 x", "B 2 y"});
  CHECK(jobs_of(reader_of({{"x", "y"}, {"A", "B"}, {"1", "2"}}, {}, {false, false, true})) ==
        Jobs{"x A 1", "x B 2", "y A 1", "y B 2"});
}

TEST_CASE("--colsep splits an item into columns, trimmed on both ends by default") {
  InputRules tab;
  tab.column_separator = "\\t";
  CHECK(jobs_of(reader_of({{"a\tb", "c\td"}}, tab)) == Jobs{"a b", "c d"});
  InputRules comma;
  comma.column_separator = ",";
  auto reader = reader_of({{" a , b "}}, comma);
  CHECK(*reader.next() == JobArgs{"a", "b"});
  comma.trim = Trim::none;
  CHECK(*reader_of({{" a , b "}}, comma).next() == JobArgs{" a ", " b "});
  InputRules regex;
  regex.column_separator = "[;:]+";
  CHECK(*reader_of({{"a;;b:c"}}, regex).next() == JobArgs{"a", "b", "c"});
  InputRules left;
  left.trim = Trim::left;
  CHECK(*reader_of({{"  a  "}}, left).next() == JobArgs{"a  "});
}

TEST_CASE("--col-header takes each source's first item as its column names") {
  InputRules header;
  header.header = ":";
  header.column_separator = "\\t";
  auto reader = reader_of({{"name\tsize", "a\t1", "b\t2"}}, header);
  CHECK(*reader.next() == JobArgs{"a", "1"});
  CHECK(reader.column_names() == std::vector<std::string>{"name", "size"});
  InputRules plain;
  plain.header = ":";
  auto crossed = reader_of({{"f1", "A", "B"}, {"f2", "C"}}, plain);
  CHECK(jobs_of(reader_of({{"f1", "A", "B"}, {"f2", "C"}}, plain)) == Jobs{"A C", "B C"});
  crossed.next();
  CHECK(crossed.column_names() == std::vector<std::string>{"f1", "f2"});
  InputRules strict;
  strict.header = "id,.*";
  CHECK_THROWS_WITH_AS(reader_of({{"name,x", "a,1"}}, strict).next(),
                       ":::: the first line does not match --col-header id,.*", InputError);
}

TEST_CASE("-r makes no job of white space") {
  InputRules skip;
  skip.skip_blank = true;
  CHECK(jobs_of(reader_of({{"a", " ", "", "\t", "b"}}, skip)) == Jobs{"a", "b"});
  CHECK(jobs_of(reader_of({{"a", " "}})) == Jobs{"a", " "});
}

TEST_CASE("-n and -N put up to N records in one job") {
  InputRules two;
  two.max_args = 2;
  // seq 10 | parallel -n 2 echo
  CHECK(jobs_of(reader_of({numbers(1, 10)}, two)) == Jobs{"1 2", "3 4", "5 6", "7 8", "9 10"});
  CHECK(jobs_of(reader_of({{"a", "b", "c"}}, two)) == Jobs{"a b", "c"});
  InputRules none;
  none.max_args = 1;
  none.no_arguments = true;  // -N 0
  auto reader = reader_of({{"a", "b"}}, none);
  CHECK(*reader.next() == JobArgs{});
  CHECK(*reader.next() == JobArgs{});
  CHECK_FALSE(reader.next());
}

TEST_CASE("-X fills the line, spread evenly over the slots, and -L caps the records") {
  InputRules fill;
  fill.fill_line = true;
  CommandTemplate echo({"echo"}, {});
  // seq 10 | parallel -j 1 -X echo; with -j 4 the list is spread: 3 3 3 1
  CHECK(jobs_of(reader_of({numbers(1, 10)}, fill, {}, echo)) == Jobs{"1 2 3 4 5 6 7 8 9 10"});
  fill.spread_over = 4;
  CHECK(jobs_of(reader_of({numbers(1, 10)}, fill, {}, echo)) == Jobs{"1 2 3", "4 5 6", "7 8 9", "10"});
  InputRules lines;
  lines.fill_line = true;
  lines.max_lines = 2;
  lines.spread_over = 6;  // -L does not spread
  CHECK(jobs_of(reader_of({{"a b", "c", "d", "e"}}, lines, {}, echo)) == Jobs{"a b c", "d e"});
  InputRules small;
  small.fill_line = true;
  small.max_chars = 16;  // "echo aaaa bbbb" is 14 bytes
  CHECK(jobs_of(reader_of({{"aaaa", "bbbb", "cccc", "dddd", "eeee"}}, small, {}, echo)) ==
        Jobs{"aaaa bbbb", "cccc dddd", "eeee"});
}

TEST_CASE("-X never makes a line longer than --max-chars allows") {
  CommandTemplate::Settings context;
  context.context_replace = true;
  CommandTemplate command({"cp", "--", "dir/{}", "x{}y", "/dest"}, context);
  InputRules fill;
  fill.fill_line = true;
  fill.max_chars = 2000;
  std::vector<std::string> words;
  for (int i = 0; i < 3000; ++i) words.push_back(std::string(static_cast<std::size_t>(i % 17), 'a' + i % 26) + "'$");
  auto reader = reader_of({words}, fill, {}, command);
  std::size_t count = 0;
  while (auto args = reader.next_blocking()) {
    count += args->size();
    CHECK(command.expand(*args, 1, 1).size() <= 2000);
  }
  CHECK(count == words.size());
}

TEST_CASE("a file source stays lazy when it is first, the others are read whole") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::vector<InputSource> sources;
  sources.push_back(InputSource::from_file("/proc/self/fd/" + std::to_string(fds[0]), "\n"));
  sources.push_back(InputSource::from_items({"1", "2"}));
  JobListReader reader(std::move(sources), {}, InputRules{});
  close(fds[0]);
  REQUIRE(write(fds[1], "A\n", 2) == 2);
  CHECK_FALSE(reader.next());  // nothing read yet
  REQUIRE(reader.fd() >= 0);
  reader.fill();
  CHECK(*reader.next() == JobArgs{"A", "1"});
  CHECK(*reader.next() == JobArgs{"A", "2"});
  CHECK_FALSE(reader.next());  // the pipe is still open
  CHECK_FALSE(reader.at_end());
  close(fds[1]);
  reader.fill();
  CHECK_FALSE(reader.next());
  CHECK(reader.at_end());
}

TEST_CASE("stop_reading: what is complete still makes jobs, then the list ends") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::vector<InputSource> sources;
  sources.push_back(InputSource::from_file("/proc/self/fd/" + std::to_string(fds[0]), "\n"));
  InputRules two;
  two.max_args = 2;
  JobListReader reader(std::move(sources), {}, two);
  close(fds[0]);
  REQUIRE(write(fds[1], "a\nb\nc\npart", 10) == 10);
  reader.fill();
  CHECK(*reader.next() == JobArgs{"a", "b"});
  CHECK_FALSE(reader.next());  // "c" waits for a second record
  reader.stop_reading();
  CHECK(*reader.next() == JobArgs{"c"});
  CHECK_FALSE(reader.next());
  CHECK(reader.at_end());
  close(fds[1]);
}

TEST_CASE("files as sources: crossed with :::, CRLF lines") {
  std::string path = temp_file("x\r\ny\r\n");
  std::vector<InputSource> sources;
  sources.push_back(InputSource::from_items({"1", "2"}));
  sources.push_back(InputSource::from_file(path, "\n"));
  CHECK(jobs_of(JobListReader(std::move(sources), {}, InputRules{})) == Jobs{"1 x", "1 y", "2 x", "2 y"});
  std::remove(path.c_str());
}

TEST_CASE("fuzz: random sources and rules never crash, and every item reaches a job whole") {
  std::mt19937 random(20261202);
  auto word = [&] {
    std::string text;
    std::size_t length = random() % 6;
    for (std::size_t i = 0; i < length; ++i) text += "ab ,\t'\"$\\{}\r\n"[random() % 14];
    return text;
  };
  for (int round = 0; round < 400; ++round) {
    Sources items(1 + random() % 3);
    for (auto& source : items) {
      source.resize(random() % 5);
      for (auto& item : source) item = word();
    }
    InputRules rules;
    rules.link_all = random() % 4 == 0;
    if (random() % 3 == 0) rules.max_args = 1 + random() % 3;
    if (random() % 4 == 0) {
      rules.fill_line = true;
      rules.spread_over = 1 + random() % 3;
    }
    rules.skip_blank = random() % 5 == 0;
    CommandTemplate::Settings settings;
    settings.context_replace = rules.fill_line && random() % 2;
    CommandTemplate command({"echo", random() % 2 ? "{}" : "x{1}y", "'{-1}'", "\"{}\""}, settings);
    auto reader = reader_of(items, rules, {}, command);
    std::size_t jobs = 0;
    while (auto args = reader.next_blocking()) {
      ++jobs;
      std::string line = command.expand(*args, jobs, 1);
      CHECK(line.starts_with("echo "));
    }
    std::size_t combinations = 1, longest = 0;
    for (auto& source : items) {
      combinations *= source.size();
      longest = std::max(longest, source.size());
    }
    if (!rules.skip_blank && !rules.max_args && !rules.fill_line) {
      CHECK(jobs == (rules.link_all ? (combinations ? longest : 0) : combinations));
    }
  }
}
