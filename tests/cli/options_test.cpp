// Option parsing: the fixed names, their checks and one-line errors.
#include <doctest/doctest.h>

#include <vector>

#include "options.hpp"

using namespace pexec::cli;

namespace {
std::optional<Options> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "pexec");
  return parse_options(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("a command, its arguments and ::: items are separated from pexec's options") {
  auto o = parse({"-j", "5", "--mode=process", "gzip", "-k", "file{}", "-j", "9", ":::", "a", "-b"});
  REQUIRE(o);
  CHECK(*o->jobs == 5);
  CHECK(o->mode == Mode::process);
  CHECK(o->command == std::vector<std::string>{"gzip", "-k", "file{}", "-j", "9"});
  CHECK(o->command_template() == "gzip -k file{} -j 9");
  CHECK(*o->items == std::vector<std::string>{"a", "-b"});
  auto dashed = parse({"-k", "--", "echo", "x"});
  CHECK(dashed->command == std::vector<std::string>{"echo", "x"});
  CHECK(dashed->keep_order);
}

TEST_CASE("defaults") {
  auto o = parse({});
  REQUIRE(o);
  CHECK(o->mode == Mode::thread);
  CHECK_FALSE(o->jobs);
  CHECK(o->return_when == pexec::ALL_COMPLETED);
  CHECK(o->grace == 1.0);
  CHECK(o->format == OutputFormat::text);
  CHECK(o->command.empty());
  CHECK_FALSE(o->items);
}

TEST_CASE("--return-when takes pexec's and Python's spellings in any case") {
  CHECK(parse({"-w", "first-completed"})->return_when == pexec::FIRST_COMPLETED);
  CHECK(parse({"--return-when", "FIRST_EXCEPTION"})->return_when == pexec::FIRST_EXCEPTION);
  CHECK(parse({"-w", "All_Completed"})->return_when == pexec::ALL_COMPLETED);
  CHECK(parse({"-w", "all"})->return_when == pexec::ALL_COMPLETED);
  CHECK_THROWS_WITH_AS(parse({"-w", "sometimes"}), doctest::Contains("--return-when"), UsageError);
}

TEST_CASE("values are checked at the edge") {
  CHECK_THROWS_AS(parse({"-j", "0"}), UsageError);
  CHECK_THROWS_AS(parse({"-j", "many"}), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--timeout", "abc"}), doctest::Contains("not a number of seconds"), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--timeout", "-1"}), doctest::Contains("more than 0 seconds"), UsageError);
  CHECK_THROWS_AS(parse({"--deadline", "0"}), UsageError);
  CHECK(parse({"--grace", "0"})->grace == 0);
  CHECK_THROWS_AS(parse({"--mode", "fiber"}), UsageError);
  CHECK_THROWS_AS(parse({"--format", "xml"}), UsageError);
  CHECK_THROWS_AS(parse({"--no-such-option"}), UsageError);
  CHECK_THROWS_WITH_AS(parse({"--max-tasks-per-child", "2"}), "--max-tasks-per-child needs --mode process", UsageError);
  CHECK(*parse({"--mode", "PROCESS", "--max-tasks-per-child", "2"})->max_tasks_per_child == 2);
  CHECK_THROWS_AS(parse({"-a", "x", ":::", "y"}), UsageError);
}

TEST_CASE("the last of a repeated option wins") {
  CHECK(*parse({"-j", "2", "--jobs", "7"})->jobs == 7);
  CHECK(*parse({"-t", "1", "-t", "2.5"})->timeout == 2.5);
}

TEST_CASE("-a takes one file, the next word starts the command") {
  auto o = parse({"-a", "list.txt", "gzip", "{}"});
  CHECK(o->arg_files == std::vector<std::string>{"list.txt"});
  CHECK(o->command == std::vector<std::string>{"gzip", "{}"});
}

TEST_CASE("repeatable arg files, flags") {
  auto o =
      parse({"-a", "x", "--arg-file", "-", "-0", "--tag", "--dry-run", "--let-running-finish", "--format", "jsonl"});
  CHECK(o->arg_files == std::vector<std::string>{"x", "-"});
  CHECK(o->null_separated);
  CHECK(o->tag);
  CHECK(o->dry_run);
  CHECK(o->let_running_finish);
  CHECK(o->format == OutputFormat::jsonl);
}
