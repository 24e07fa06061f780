#include "command_template.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace pexec::cli {

namespace {

bool is_safe_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

std::string_view basename(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view dirname(std::string_view path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

// Drops the extension of the last path component ("dir/a.tar.gz" -> "dir/a.tar").
std::string_view without_extension(std::string_view path) {
  std::size_t slash = path.rfind('/');
  std::size_t dot = path.rfind('.');
  std::size_t name_start = slash == std::string_view::npos ? 0 : slash + 1;
  if (dot == std::string_view::npos || dot <= name_start) return path;
  return path.substr(0, dot);
}

// dash's builtins and reserved words: running these without a shell would change the result.
// true and false are not listed: /usr/bin/true and /usr/bin/false give the same exit status,
// except that coreutils answers --help and --version (checked below).
constexpr std::array<std::string_view, 44> kShellWords = {
    ".",      ":",     "[",       "alias",    "bg",     "break", "cd",      "chdir", "command", "continue", "echo",
    "eval",   "exec",  "exit",    "export",   "fc",     "fg",    "getopts", "hash",  "jobs",    "kill",     "local",
    "printf", "pwd",   "read",    "readonly", "return", "set",   "shift",   "test",  "times",   "trap",     "type",
    "ulimit", "umask", "unalias", "unset",    "wait",   "if",    "for",     "while", "until",   "case",     "source"};

}  // namespace

std::string shell_quote(std::string_view text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), is_safe_char)) return std::string(text);
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

std::string quote_for(QuoteContext context, std::string_view text) {
  std::string quoted;
  switch (context) {
    case QuoteContext::unquoted:
      return shell_quote(text);
    case QuoteContext::single_quoted:  // 'x{}y': close the quotes around each quote of the item
      for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
      return quoted;
    case QuoteContext::double_quoted:  // "x{}y": the four characters special inside "" are escaped
      for (char c : text) {
        if (c == '$' || c == '`' || c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      return quoted;
  }
  return quoted;
}

std::string expand_command(const std::string& command_template, const std::string& item, std::uint64_t seq, int slot) {
  if (command_template.empty()) return item;
  struct Replacement {
    std::string_view token;
    std::string value;  // unquoted; quoted for where it lands
  };
  // Longest tokens first, so that "{//}" is not read as "{/" + "/}".
  const std::array<Replacement, 7> replacements = {{
      {"{//}", std::string(dirname(item))},
      {"{/.}", std::string(without_extension(basename(item)))},
      {"{/}", std::string(basename(item))},
      {"{.}", std::string(without_extension(item))},
      {"{#}", std::to_string(seq)},
      {"{%}", std::to_string(slot)},
      {"{}", item},
  }};
  std::string line;
  bool replaced = false;
  // Where in the shell's quoting the template is, so that each item lands as one literal.
  QuoteContext context = QuoteContext::unquoted;
  std::string_view rest = command_template;
  while (!rest.empty()) {
    auto match = std::find_if(replacements.begin(), replacements.end(),
                              [&](const Replacement& r) { return rest.starts_with(r.token); });
    if (match != replacements.end()) {
      line += quote_for(context, match->value);
      rest.remove_prefix(match->token.size());
      replaced = true;
      continue;
    }
    char c = rest.front();
    line += c;
    rest.remove_prefix(1);
    if (c == '\\' && context != QuoteContext::single_quoted && !rest.empty()) {  // escapes the next
      line += rest.front();
      rest.remove_prefix(1);
    } else if (c == '\'' && context != QuoteContext::double_quoted) {
      context = context == QuoteContext::single_quoted ? QuoteContext::unquoted : QuoteContext::single_quoted;
    } else if (c == '"' && context != QuoteContext::single_quoted) {
      context = context == QuoteContext::double_quoted ? QuoteContext::unquoted : QuoteContext::double_quoted;
    }
  }
  if (!replaced) line += " " + shell_quote(item);
  return line;
}

std::optional<std::vector<std::string>> split_simple_command(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::exchange(word, {}));
      in_word = false;
    } else if (c == '\'') {
      std::size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      word.append(line.substr(i + 1, close - i - 1));
      i = close;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size() && line[i + 1] != '\n') {
      word += line[++i];
      in_word = true;
    } else if (is_safe_char(c)) {
      word += c;
      in_word = true;
    } else {
      return std::nullopt;  // anything else may be shell syntax
    }
  }
  if (in_word) words.push_back(word);
  if (words.empty()) return std::nullopt;
  const std::string& first = words.front();
  if (first.empty() || first.find('=') != std::string::npos) return std::nullopt;
  if (std::find(kShellWords.begin(), kShellWords.end(), first) != kShellWords.end()) return std::nullopt;
  if (first == "true" || first == "false") {
    for (const std::string& word : words) {
      if (word == "--help" || word == "--version") return std::nullopt;
    }
  }
  return words;
}

}  // namespace pexec::cli
