#pragma once
/// Options of GNU parallel and xargs that pexec does not take: what pexec says instead of
/// silently running them as part of COMMAND.

#include <optional>
#include <string>

namespace pexec::cli {

/// The one-line refusal for `word` (an unknown word starting with '-'), naming pexec's spelling
/// where there is one; nothing if `word` is no option of GNU parallel or xargs.
std::optional<std::string> foreign_option_message(const std::string& word);

/// Whether `word` names a program (an executable in PATH, or a path to one): then an unknown
/// "option" may really be a COMMAND that starts with '-'.
bool looks_like_command(const std::string& word);

}  // namespace pexec::cli
