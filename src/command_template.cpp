#include "command_template.hpp"

#include <algorithm>
#include <array>
#include <charconv>
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

/// The modifier that `suffix` spells ("", ".", "/", "//", "/."), or nothing.
std::optional<Modifier> modifier_named(std::string_view suffix) {
  if (suffix.empty()) return Modifier::none;
  if (suffix == ".") return Modifier::no_extension;
  if (suffix == "/") return Modifier::basename;
  if (suffix == "//") return Modifier::dirname;
  if (suffix == "/.") return Modifier::basename_no_extension;
  return std::nullopt;
}

/// Splits "name/." into "name" and its modifier; the longest modifier suffix first.
std::pair<std::string_view, Modifier> split_modifier(std::string_view inner) {
  for (std::string_view suffix : {"//", "/.", "/", "."}) {
    if (inner.size() > suffix.size() && inner.ends_with(suffix)) {
      return {inner.substr(0, inner.size() - suffix.size()), *modifier_named(suffix)};
    }
  }
  return {inner, Modifier::none};
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

std::string join_words(const std::vector<std::string>& words) {
  std::string joined;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) joined += ' ';
    joined += words[i];
  }
  return joined;
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

std::string apply_modifier(Modifier modifier, std::string_view arg) {
  switch (modifier) {
    case Modifier::none:
      return std::string(arg);
    case Modifier::no_extension:
      return std::string(without_extension(arg));
    case Modifier::basename:
      return std::string(basename(arg));
    case Modifier::dirname:
      return std::string(dirname(arg));
    case Modifier::basename_no_extension:
      return std::string(without_extension(basename(arg)));
  }
  return std::string(arg);
}

CommandTemplate::CommandTemplate(const std::vector<std::string>& words, Settings settings) : settings_(settings) {
  for (const std::string& word : words) {
    if (!text_.empty()) text_ += ' ';
    // -q: quoted whole, so that the shell sees the word literally; a replacement string in it
    // is then in single quotes, and its value is quoted for that.
    text_ += settings.quote_words ? shell_quote(word) : word;
  }
  parse();
}

void CommandTemplate::parse() {
  // Where in the shell's quoting the template is, so that each argument lands as one literal.
  QuoteContext context = QuoteContext::unquoted;
  int word = 0;
  bool in_word = false;
  auto add_literal = [&](std::string_view text) {
    if (pieces_.empty() || pieces_.back().what != What::literal || pieces_.back().word != word) {
      pieces_.push_back(Piece{What::literal, {}, 0, Modifier::none, context, word});
    }
    pieces_.back().text += text;
  };
  std::string_view rest = text_;
  while (!rest.empty()) {
    char c = rest.front();
    if (context == QuoteContext::unquoted && (c == ' ' || c == '\t' || c == '\n')) {
      if (in_word) ++word;
      in_word = false;
      add_literal(rest.substr(0, 1));
      pieces_.back().word = -1;  // between words: never repeated
      rest.remove_prefix(1);
      continue;
    }
    in_word = true;
    if (c == '{') {
      std::size_t close = rest.find('}');
      if (close != std::string_view::npos) {
        std::string_view inner = rest.substr(1, close - 1);
        std::optional<Piece> piece;
        if (auto modifier = modifier_named(inner)) {
          piece = Piece{What::all_args, {}, 0, *modifier, context, word};
        } else if (inner == "#" || inner == "%") {
          piece = Piece{inner == "#" ? What::seq : What::slot, {}, 0, Modifier::none, context, word};
        } else {
          auto [base, modifier] = split_modifier(inner);
          int position = 0;
          auto [end, error] = std::from_chars(base.data(), base.data() + base.size(), position);
          if (error == std::errc() && end == base.data() + base.size() && position != 0) {
            piece = Piece{What::position, {}, position, modifier, context, word};
          } else if (settings_.column_names && !inner.empty()) {
            piece = Piece{What::name, std::string(inner), 0, Modifier::none, context, word};
          }
        }
        if (piece) {
          if (piece->what == What::all_args) ++all_args_pieces_;
          if (piece->what != What::name) has_replacement_ = true;
          pieces_.push_back(std::move(*piece));
          rest.remove_prefix(close + 1);
          continue;
        }
      }
    }
    std::size_t length = 1;
    if (c == '\\' && context != QuoteContext::single_quoted && rest.size() > 1) {
      length = 2;  // escapes the next character
    } else if (c == '\'' && context != QuoteContext::double_quoted) {
      context = context == QuoteContext::single_quoted ? QuoteContext::unquoted : QuoteContext::single_quoted;
    } else if (c == '"' && context != QuoteContext::single_quoted) {
      context = context == QuoteContext::double_quoted ? QuoteContext::unquoted : QuoteContext::double_quoted;
    }
    add_literal(rest.substr(0, length));
    rest.remove_prefix(length);
  }
  if (settings_.context_replace) {
    for (const Piece& piece : pieces_) {
      if (piece.what != What::literal || piece.word < 0) continue;
      bool repeated = std::any_of(pieces_.begin(), pieces_.end(), [&](const Piece& other) {
        return other.what == What::all_args && other.word == piece.word;
      });
      if (repeated) all_args_word_bytes_ += piece.text.size() + 1;
    }
  }
}

std::string CommandTemplate::value_of(const Piece& piece, const std::vector<std::string>& args, std::uint64_t seq,
                                      int slot, const std::vector<std::string>& column_names, bool& replaced) const {
  auto quoted = [&](std::string_view arg, Modifier modifier) {
    return settings_.plain_text ? apply_modifier(modifier, arg)
                                : quote_for(piece.context, apply_modifier(modifier, arg));
  };
  switch (piece.what) {
    case What::literal:
      return piece.text;
    case What::seq:
      replaced = true;
      return std::to_string(seq);
    case What::slot:
      replaced = true;
      return std::to_string(slot);
    case What::position: {
      replaced = true;
      long index = piece.position > 0 ? piece.position - 1 : static_cast<long>(args.size()) + piece.position;
      bool present = index >= 0 && index < static_cast<long>(args.size());
      return quoted(present ? std::string_view(args[static_cast<std::size_t>(index)]) : "", piece.modifier);
    }
    case What::name: {
      // {name} first, then {name.} and the other modifiers, as GNU parallel reads them.
      auto find = [&](std::string_view name) { return std::find(column_names.begin(), column_names.end(), name); };
      auto column = find(piece.text);
      Modifier modifier = Modifier::none;
      if (column == column_names.end()) {
        auto [base, base_modifier] = split_modifier(piece.text);
        column = find(base);
        modifier = base_modifier;
      }
      if (column == column_names.end()) return "{" + piece.text + "}";  // not a column: literal
      replaced = true;
      auto index = static_cast<std::size_t>(column - column_names.begin());
      return quoted(index < args.size() ? std::string_view(args[index]) : "", modifier);
    }
    case What::all_args: {
      replaced = true;
      std::vector<std::string> words;
      for (const std::string& arg : args) words.push_back(quoted(arg, piece.modifier));
      return join_words(words);
    }
  }
  return {};
}

std::string CommandTemplate::expand(const std::vector<std::string>& args, std::uint64_t seq, int slot,
                                    const std::vector<std::string>& column_names) const {
  if (empty()) return join_words(args);  // the arguments are the command line
  std::string line;
  bool replaced = false;
  for (std::size_t i = 0; i < pieces_.size();) {
    const Piece& piece = pieces_[i];
    // -X: a word holding {} is written once for each argument, each time with that argument.
    std::size_t word_end = i;
    bool repeat = false;
    if (settings_.context_replace && piece.word >= 0) {
      while (word_end < pieces_.size() && pieces_[word_end].word == piece.word) {
        repeat = repeat || pieces_[word_end].what == What::all_args;
        ++word_end;
      }
    }
    if (!repeat) {
      line += value_of(piece, args, seq, slot, column_names, replaced);
      ++i;
      continue;
    }
    for (std::size_t a = 0; a < args.size(); ++a) {
      if (a > 0) line += ' ';
      std::vector<std::string> one{args[a]};
      for (std::size_t p = i; p < word_end; ++p) {
        const Piece& part = pieces_[p];
        line += value_of(part, part.what == What::all_args ? one : args, seq, slot, column_names, replaced);
      }
    }
    replaced = true;
    i = word_end;
  }
  if (!replaced && !settings_.plain_text) {
    for (const std::string& arg : args) {
      line += ' ';
      line += shell_quote(arg);
    }
  }
  return line;
}

std::size_t CommandTemplate::size_of_argument(std::string_view arg) const {
  if (!has_replacement_) return shell_quote(arg).size() + 1;  // appended
  // Each place the argument may land, quoted there (a modifier shortens it, or makes "." of "").
  std::size_t size = all_args_word_bytes_;
  for (const Piece& piece : pieces_) {
    if (piece.what == What::all_args || piece.what == What::position || piece.what == What::name) {
      size += quote_for(piece.context, arg).size() + 2;
    }
  }
  return size;
}

std::size_t CommandTemplate::size_without_arguments() const {
  std::size_t size = 0;
  for (const Piece& piece : pieces_) size += piece.what == What::literal ? piece.text.size() : 20;
  return size;
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
