#pragma once
/// How a job's command line is made from COMMAND and an item (GNU parallel's replacement
/// strings), and when that line can be executed without a shell.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pexec::cli {

/// Quotes `text` for /bin/sh so that it is always exactly one literal word.
std::string shell_quote(std::string_view text);

/// Where a replacement string stands in COMMAND: outside quotes, inside '...' or inside "...".
enum class QuoteContext { unquoted, single_quoted, double_quoted };

/// Quotes `text` so that, at a place of `context` in a shell line, it is exactly its literal bytes.
std::string quote_for(QuoteContext context, std::string_view text);

/// The command line for `item`: with an empty template, the item itself (a shell command
/// line); otherwise the template with {} {.} {/} {//} {/.} replaced by the item (whole, without
/// extension, basename, dirname, basename without extension), quoted for where it stands (so
/// `echo "{}"` and `echo '{}'` are as safe as `echo {}`), {#} by `seq` and {%} by `slot`. A
/// template with none of these gets the quoted item appended.
std::string expand_command(const std::string& command_template, const std::string& item, std::uint64_t seq, int slot);

/// The argument vector of `line` if running it directly gives the same result as /bin/sh -c:
/// plain words and single-quoted strings only, and a first word that is no shell builtin,
/// keyword or assignment. Nothing otherwise.
std::optional<std::vector<std::string>> split_simple_command(std::string_view line);

}  // namespace pexec::cli
