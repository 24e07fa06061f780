// Substitution and quoting: an item is always one literal word, never shell syntax.
#include <doctest/doctest.h>

#include <cstdio>
#include <random>

#include "command_template.hpp"

using namespace pexec::cli;

namespace {
/// The command line of a job with `args` for the COMMAND `command` (one string, as the words
/// joined would be).
std::string expand(const std::string& command, const std::vector<std::string>& args, std::uint64_t seq = 1,
                   int slot = 1, CommandTemplate::Settings settings = {}) {
  std::vector<std::string> words;
  if (!command.empty()) words.push_back(command);
  return CommandTemplate(words, settings).expand(args, seq, slot);
}
std::string expand_command(const std::string& command, const std::string& item, std::uint64_t seq, int slot) {
  return expand(command, {item}, seq, slot);
}
}  // namespace

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

TEST_CASE("positional replacement strings take one argument each, with the same modifiers") {
  std::vector<std::string> args{"dir/a.tar.gz", "b c", "last"};
  CHECK(expand("echo {2} {1}", args) == "echo 'b c' dir/a.tar.gz");
  CHECK(expand("echo {-1} {-3}", args) == "echo last dir/a.tar.gz");
  CHECK(expand("echo {1.} {1/} {1//} {1/.}", args) == "echo dir/a.tar a.tar.gz dir a.tar");
  CHECK(expand("echo {9}x {-9}", args) == "echo ''x ''");  // missing ones are empty
  CHECK(expand("echo {}", args) == "echo dir/a.tar.gz 'b c' last");
  CHECK(expand("echo {/}", args) == "echo a.tar.gz 'b c' last");
  CHECK(expand("echo", args) == "echo dir/a.tar.gz 'b c' last");
  CHECK(expand("", {"echo", "a b"}) == "echo a b");  // no COMMAND: the arguments are the line
}

TEST_CASE("a word in braces that is no replacement string stays as it is") {
  CHECK(expand("awk '{print $1}' {0} {a} {1x}", {"f"}) == "awk '{print $1}' {0} {a} {1x} f");
}

TEST_CASE("-X repeats the word around {} for each argument, -q quotes COMMAND's words") {
  CommandTemplate::Settings context;
  context.context_replace = true;
  CHECK(expand("echo a{}b c{}d", {"x y", "z"}, 1, 1, context) == "echo a'x y'b azb c'x y'd czd");
  CHECK(expand("echo \"<{}>\" {1} {#}", {"x y", "z"}, 7, 1, context) == "echo \"<x y>\" \"<z>\" 'x y' 7");
  CommandTemplate::Settings quoted;
  quoted.quote_words = true;
  CHECK(CommandTemplate({"echo", "a;b", "{}c"}, quoted).expand({"x'y"}, 1, 1) == "echo 'a;b' 'x'\\''yc'");
}

TEST_CASE("column names from --col-header are replacement strings, with modifiers") {
  CommandTemplate::Settings named;
  named.column_names = true;
  CommandTemplate command({"echo {size} {file/.} {other}"}, named);
  CHECK(command.expand({"d/f.txt", "12"}, 1, 1, {"file", "size"}) == "echo 12 f {other}");
}

TEST_CASE("an argument's size is an upper bound of what it adds to the line") {
  for (const char* text : {"echo", "echo {}", "echo a{}b {1} {}", "echo \"{}\""}) {
    CommandTemplate::Settings context;
    context.context_replace = true;
    CommandTemplate command({text}, context);
    std::vector<std::string> args;
    std::size_t size = command.size_without_arguments();
    for (const char* arg : {"a", "b c", "it's", "$x"}) {
      args.push_back(arg);
      size += command.size_of_argument(arg);
      CAPTURE(text);
      CHECK(command.expand(args, 1, 1).size() <= size);
    }
  }
}

TEST_CASE("fuzz: whatever the arguments hold, /bin/sh gets each one as one literal word") {
  std::mt19937 random(1202);
  const std::string alphabet = "ab '\"$`\\;|&(){}*?~#!\n\t%-=";
  auto word = [&] {
    std::string text;
    std::size_t length = random() % 7;
    for (std::size_t i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
    return text;
  };
  struct Shape {
    const char* command;
    bool context_replace;
    // The words printf gets, from the arguments.
    std::vector<std::string> (*words)(const std::vector<std::string>&);
  };
  const std::vector<Shape> shapes = {
      {"printf '<%s>\\n' {}", false, [](const std::vector<std::string>& a) { return a; }},
      {"printf '<%s>\\n' \"{}\"", false,
       [](const std::vector<std::string>& a) {
         std::string text;
         for (std::size_t i = 0; i < a.size(); ++i) text += (i ? " " : "") + a[i];
         return std::vector<std::string>{text};
       }},
      {"printf '<%s>\\n' 'x{1}' {-1}", false,
       [](const std::vector<std::string>& a) {
         return std::vector<std::string>{"x" + a.front(), a.back()};
       }},
      {"printf '<%s>\\n' \"y{}\"", true,
       [](const std::vector<std::string>& a) {
         std::vector<std::string> words;
         for (const std::string& arg : a) words.push_back("y" + arg);
         return words;
       }},
  };
  for (int round = 0; round < 160; ++round) {
    const Shape& shape = shapes[static_cast<std::size_t>(round) % shapes.size()];
    std::vector<std::string> args(1 + random() % 3);
    for (std::string& arg : args) arg = word();
    CommandTemplate::Settings settings;
    settings.context_replace = shape.context_replace;
    std::string line = CommandTemplate({shape.command}, settings).expand(args, 1, 1);
    std::string expected;
    for (const std::string& w : shape.words(args)) expected += "<" + w + ">\n";
    CAPTURE(line);
    FILE* shell = popen(("/bin/sh -c " + shell_quote(line)).c_str(), "r");
    REQUIRE(shell);
    std::string output;
    char buffer[4096];
    while (std::size_t n = fread(buffer, 1, sizeof buffer, shell)) output.append(buffer, n);
    CHECK(pclose(shell) == 0);
    CHECK(output == expected);
  }
}
