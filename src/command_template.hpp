#pragma once
/// CommandTemplate: how a job's command line is made from COMMAND and the job's arguments
/// (GNU parallel's replacement strings), parsed once per run; and when a line can be executed
/// without a shell.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pexec::cli {

/// Quotes `text` for /bin/sh so that it is always exactly one literal word.
std::string shell_quote(std::string_view text);

/// `words` joined by a space; an empty word still counts ("a", "" gives "a ").
std::string join_words(const std::vector<std::string>& words);

/// Where a replacement string stands in COMMAND: outside quotes, inside '...' or inside "...".
enum class QuoteContext { unquoted, single_quoted, double_quoted };

/// Quotes `text` so that, at a place of `context` in a shell line, it is exactly its literal bytes.
std::string quote_for(QuoteContext context, std::string_view text);

/// What a replacement string does to an argument: {} {.} {/} {//} {/.} and the same after a
/// position or a column name ({1.}, {name/}).
enum class Modifier { none, no_extension, basename, dirname, basename_no_extension };

/// `arg` changed by `modifier`.
std::string apply_modifier(Modifier modifier, std::string_view arg);

class CommandTemplate {
 public:
  struct Settings {
    bool quote_words = false;      // -q: each COMMAND word reaches the program literally
    bool context_replace = false;  // -X: a word holding {} is repeated for each argument
    bool column_names = false;     // --col-header: {name} is a replacement string
    bool plain_text = false;       // --tagstring: values as they are, nothing quoted or appended
  };

  /// `words` are COMMAND and its ARGs; none: each job's one argument is its command line.
  explicit CommandTemplate(const std::vector<std::string>& words, Settings settings);
  CommandTemplate() : CommandTemplate({}, Settings{}) {}

  /// Whether there is no COMMAND.
  bool empty() const { return text_.empty(); }
  /// COMMAND as one shell line (with -q, each word quoted), before any replacement.
  const std::string& text() const { return text_; }

  /// The command line of a job with `args`: every replacement string replaced, each argument
  /// quoted for where it lands (so that `echo "{}"` and `echo '{}'` are as safe as `echo {}`);
  /// with no replacement string, the quoted arguments appended. {} is every argument, each
  /// quoted, joined by a space; {N} argument N ({-1} the last; missing ones are empty); {#}
  /// `seq`; {%} `slot`; {name} the argument in the column `name` of `column_names`. With no
  /// COMMAND, the arguments joined by a space are the line.
  std::string expand(const std::vector<std::string>& args, std::uint64_t seq, int slot,
                     const std::vector<std::string>& column_names = {}) const;

  /// At most how many bytes one more argument `arg` adds to a command line (for -X, -m, -s).
  std::size_t size_of_argument(std::string_view arg) const;
  /// At most how many bytes a command line has before any argument is added.
  std::size_t size_without_arguments() const;

 private:
  enum class What { literal, all_args, position, name, seq, slot };
  struct Piece {
    What what = What::literal;
    std::string text;  // literal text, or the column name
    int position = 0;  // 1-based; below 0 counts from the end
    Modifier modifier = Modifier::none;
    QuoteContext context = QuoteContext::unquoted;
    int word = 0;  // which shell word of COMMAND it belongs to (for -X)
  };

  void parse();
  std::string value_of(const Piece& piece, const std::vector<std::string>& args, std::uint64_t seq, int slot,
                       const std::vector<std::string>& column_names, bool& replaced) const;

  std::string text_;
  Settings settings_;
  std::vector<Piece> pieces_;
  bool has_replacement_ = false;         // any replacement string but a column name (known only later)
  int all_args_pieces_ = 0;              // how many {} (with modifiers) there are
  std::size_t all_args_word_bytes_ = 0;  // -X: the literal bytes of the words repeated per argument
};

/// The argument vector of `line` if running it directly gives the same result as /bin/sh -c:
/// plain words and single-quoted strings only, and a first word that is no shell builtin,
/// keyword or assignment. Nothing otherwise.
std::optional<std::vector<std::string>> split_simple_command(std::string_view line);

}  // namespace pexec::cli
