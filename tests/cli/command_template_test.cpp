// Substitution and quoting: an item is always one literal word, never shell syntax.
#include <doctest/doctest.h>

#include "command_template.hpp"

using namespace pexec::cli;

TEST_CASE("shell_quote leaves plain words alone and single-quotes the rest") {
  CHECK(shell_quote("file-1.txt") == "file-1.txt");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("$(rm -rf /); `x`") == "'$(rm -rf /); `x`'");
}

TEST_CASE("placeholders are replaced by the quoted item and its parts") {
  CHECK(expand_command("gzip -k file{}", "7", 1, 1) == "gzip -k file7");
  CHECK(expand_command("echo {} {.} {/} {//} {/.}", "dir/sub/a.tar.gz", 3, 2) ==
        "echo dir/sub/a.tar.gz dir/sub/a.tar a.tar.gz dir/sub a.tar");
  CHECK(expand_command("echo {/} {//} {.}", "plain", 1, 1) == "echo plain . plain");
  CHECK(expand_command("echo {#} {%}", "x", 12, 3) == "echo 12 3");
  CHECK(expand_command("echo {.}", ".hidden", 1, 1) == "echo .hidden");
}

TEST_CASE("without a placeholder the quoted item is appended, without a template the item is the command") {
  CHECK(expand_command("echo", "a b", 1, 1) == "echo 'a b'");
  CHECK(expand_command("", "echo hi; exit 3", 1, 1) == "echo hi; exit 3");
}

TEST_CASE("hostile items stay literal") {
  for (const char* item : {"$(touch /tmp/pwned)", "a;b", "'; rm -rf ~; '", "`id`", "x\ny", "--help", "*"}) {
    std::string line = expand_command("ls -d {}", item, 1, 1);
    auto argv = split_simple_command(line);
    REQUIRE(argv.has_value());
    REQUIRE(argv->size() == 3);
    CHECK((*argv)[2] == item);
  }
}

TEST_CASE("split_simple_command runs plain words directly and leaves shell syntax to the shell") {
  auto argv = split_simple_command("gzip -k 'my file' x\\'y");
  REQUIRE(argv.has_value());
  CHECK(*argv == std::vector<std::string>{"gzip", "-k", "my file", "x'y"});
  CHECK(*split_simple_command("true 17") == std::vector<std::string>{"true", "17"});
  CHECK(*split_simple_command("false") == std::vector<std::string>{"false"});
  for (const char* line : {"echo hi", "true --help", "false x --version", "cd /tmp", "a | b", "x > y", "FOO=1 env",
                           "ls $HOME", "ls *.txt", "a && b", "sleep 1 &", "~/bin/x", "", "   "}) {
    CAPTURE(line);
    CHECK_FALSE(split_simple_command(line).has_value());
  }
}
