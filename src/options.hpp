#pragma once
/// Options: everything pexec's command line says, parsed and validated in one place
/// (parse_options). Nothing else reads argv.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "command_template.hpp"
#include "job.hpp"
#include "job_list_reader.hpp"
#include "job_slots.hpp"
#include "pexec/wait.hpp"

namespace pexec::cli {

enum class Mode { thread, process };
enum class OutputFormat { text, jsonl };
/// --kind: auto makes an item starting with http:// or https:// a URL job when there is no COMMAND.
enum class KindChoice { automatic, shell, url };

/// One input source as the command line gives it.
struct SourceOption {
  std::optional<std::vector<std::string>> items;  // the words after ::: or :::+
  std::string path;                               // or a file (-a, ::::, ::::+); "-" is stdin
  bool linked = false;                            // :::+ or ::::+: item by item with the one before
};

struct Options {
  std::vector<std::string> command;             // COMMAND [ARG...]; empty: items are command lines
  std::vector<SourceOption> sources;            // -a files, then ::: and :::: sources in order; none: stdin
  std::string delimiter = "\n";                 // -d/--delimiter, -0/--null
  InputRules input;                             // --colsep, --trim, --col-header, --link, -r, -n, -N, -X, ...
  CommandTemplate::Settings template_settings;  // -q, -X, --col-header
  bool shellquote = false;                      // --shellquote
  Mode mode = Mode::thread;                     // -m/--mode
  JobSlots jobs;                                // -j/--jobs/-P
  std::optional<int> max_tasks_per_child;       // --max-tasks-per-child (process mode)
  bool keep_order = false;                      // -k/--keep-order
  std::optional<double> timeout;                // -t/--timeout, per job
  double grace = 1.0;                           // --grace
  std::optional<double> deadline;               // --deadline, whole run
  ReturnWhen return_when = ALL_COMPLETED;       // -w/--return-when
  bool let_running_finish = false;              // --let-running-finish
  OutputFormat format = OutputFormat::text;     // --format
  bool tag = false;                             // --tag
  bool dry_run = false;                         // --dry-run
  KindChoice kind = KindChoice::automatic;      // --kind
  UrlOptions url;                               // --method, -H, --max-redirects, --connect-timeout,
                                                // --output-dir, --max-bytes, --retries

  /// COMMAND, parsed for its replacement strings.
  CommandTemplate command_template() const { return CommandTemplate(command, template_settings); }
  /// What every job of the run shares.
  RunSettings run_settings() const { return {timeout, grace, url}; }
  /// The URL that a job whose arguments are `input` fetches, if it is a URL job: only without
  /// a COMMAND; white space around the URL is no part of it.
  std::optional<std::string> url_in(const std::string& input) const;
};

/// A command line pexec cannot accept; the message is one line, without "pexec: ".
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses argv. Nothing when --help or --version was answered (exit 0); throws UsageError.
std::optional<Options> parse_options(int argc, const char* const* argv);

}  // namespace pexec::cli
