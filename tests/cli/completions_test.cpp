// Shell completion (completions/): every option `pexec --help` lists is in the bash, zsh and fish
// files; bash's and fish's completions are driven as a shell would (bash through COMP_WORDS and
// the function the file registers, fish through `complete -C`); zsh's file must parse.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "shell_output.hpp"

namespace {

const std::string kDir = PEXEC_COMPLETIONS;

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

/// The option spellings `pexec --help` lists: -x and --long.
std::set<std::string> help_options() {
  std::string help = shell_output(PEXEC_BINARY " --help").first;
  std::set<std::string> options;
  std::regex option(R"((?:^|[ ,])(--?[A-Za-z0-9][A-Za-z0-9.-]*))");  // --http1.1
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("  -")) continue;  // an option's line, not a description's continuation
    std::string names = line.substr(0, line.find("  ", 2));
    for (std::sregex_iterator it(names.begin(), names.end(), option), end; it != end; ++it) options.insert((*it)[1]);
  }
  return options;
}

/// What bash's completion offers for the words of a command line (the last one being completed).
std::vector<std::string> bash_completes(const std::string& words) {
  std::string script = "source " + kDir + "/pexec.bash; COMP_WORDS=(" + words +
                       "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _pexec; printf '%s\\n' \"${COMPREPLY[@]}\"";
  std::string out =
      shell_output("cd " PEXEC_SOURCE_DIR " && bash -c '" + std::regex_replace(script, std::regex("'"), "'\\''") + "'")
          .first;
  std::vector<std::string> offered;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) offered.push_back(line);
  return offered;
}

bool have(const char* program) {
  return shell_output(std::string("command -v ") + program + " >/dev/null").second == 0;
}

}  // namespace

TEST_CASE("every option of --help is in the bash, zsh and fish completions") {
  std::set<std::string> options = help_options();
  REQUIRE(options.size() > 60);
  CHECK(options.contains("--line-buffer"));
  std::string bash = read_file(kDir + "/pexec.bash");
  std::string zsh = read_file(kDir + "/_pexec");
  std::string fish = read_file(kDir + "/pexec.fish");
  for (const std::string& option : options) {
    CAPTURE(option);
    std::string pattern = std::regex_replace(option, std::regex("\\."), "\\.");
    CHECK(std::regex_search(bash, std::regex("[\\s'](" + pattern + ")[\\s']")));
    CHECK(std::regex_search(zsh, std::regex("[{,'\")](" + pattern + ")[\\[,}]")));
    bool is_long = option.starts_with("--");
    CHECK(fish.find((is_long ? " -l " : " -s ") + option.substr(is_long ? 2 : 1) + " ") != std::string::npos);
  }
}

TEST_CASE("bash completes options, their values, files and the command") {
  CHECK(bash_completes("pexec --mo") == std::vector<std::string>{"--mode"});
  CHECK(bash_completes("pexec -k --mode ''") == std::vector<std::string>{"thread", "process"});
  CHECK(bash_completes("pexec --color a") == std::vector<std::string>{"auto", "always"});
  CHECK(bash_completes("pexec --format ''") == std::vector<std::string>{"text", "jsonl"});
  CHECK(bash_completes("pexec -a tests/data/ex") == std::vector<std::string>{"tests/data/example-jobs.txt"});
  CHECK(bash_completes("pexec --output-dir tests/da") == std::vector<std::string>{"tests/data"});
  CHECK(bash_completes("pexec -j ''").empty());         // a number the user types
  CHECK(bash_completes("pexec echo ::: a b").empty());  // items
  CHECK(bash_completes("pexec echo :::: tests/data/ex") == std::vector<std::string>{"tests/data/example-jobs.txt"});
  std::vector<std::string> commands = bash_completes("pexec -k gzi");
  CHECK(std::find(commands.begin(), commands.end(), "gzip") != commands.end());
  CHECK(shell_output("bash -c 'source " + kDir + "/pexec.bash; complete -p pexec'").first ==
        "complete -o filenames -F _pexec pexec\n");
}

TEST_CASE("fish completes options and their values, and zsh's file parses") {
  if (!have("fish")) {
    MESSAGE("skipped: fish completion (fish is not installed)");
  } else {
    auto fish = [](const std::string& line) {
      return shell_output("fish -c \"source " + kDir + "/pexec.fish; complete -C '" + line + "'\"").first;
    };
    CHECK(fish("pexec --mo") == "--mode\trun jobs from a thread or a process pool\n");
    CHECK(fish("pexec --kind ") == "auto\twhat an item is\nshell\twhat an item is\nurl\twhat an item is\n");
  }
  if (!have("zsh")) {
    MESSAGE("skipped: zsh completion (zsh is not installed)");
  } else {
    CHECK(shell_output("zsh -n " + kDir + "/_pexec").second == 0);
  }
}
