#pragma once
/// Options: everything pexec's command line says, parsed and validated in one place
/// (parse_options). Nothing else reads argv.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "job.hpp"
#include "pexec/wait.hpp"

namespace pexec::cli {

enum class Mode { thread, process };
enum class OutputFormat { text, jsonl };
/// --kind: auto makes an item starting with http:// or https:// a URL job when there is no COMMAND.
enum class KindChoice { automatic, shell, url };

struct Options {
  std::vector<std::string> command;               // COMMAND [ARG...]; empty: items are command lines
  std::optional<std::vector<std::string>> items;  // the ITEMs after :::
  std::vector<std::string> arg_files;             // -a/--arg-file; stdin when none and no :::
  bool null_separated = false;                    // -0/--null
  Mode mode = Mode::thread;                       // -m/--mode
  std::optional<int> jobs;                        // -j/--jobs; empty: the pool's default
  std::optional<int> max_tasks_per_child;         // --max-tasks-per-child (process mode)
  bool keep_order = false;                        // -k/--keep-order
  std::optional<double> timeout;                  // -t/--timeout, per job
  double grace = 1.0;                             // --grace
  std::optional<double> deadline;                 // --deadline, whole run
  ReturnWhen return_when = ALL_COMPLETED;         // -w/--return-when
  bool let_running_finish = false;                // --let-running-finish
  OutputFormat format = OutputFormat::text;       // --format
  bool tag = false;                               // --tag
  bool dry_run = false;                           // --dry-run
  KindChoice kind = KindChoice::automatic;        // --kind
  UrlOptions url;                                 // --method, -H, --max-redirects, --connect-timeout,
                                                  // --output-dir, --max-bytes, --retries

  /// The COMMAND words joined into the template each item is substituted into.
  std::string command_template() const;
  /// What every job of the run shares.
  RunSettings run_settings() const { return {command_template(), timeout, grace, url}; }
  /// What `item` is: a shell job or a URL job.
  JobKind kind_of(const std::string& item) const;
};

/// A command line pexec cannot accept; the message is one line, without "pexec: ".
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses argv. Nothing when --help or --version was answered (exit 0); throws UsageError.
std::optional<Options> parse_options(int argc, const char* const* argv);

}  // namespace pexec::cli
