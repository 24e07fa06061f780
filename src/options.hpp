#pragma once
/// Options: everything pexec's command line says, parsed and validated in one place
/// (parse_options). Nothing else reads argv.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "command_template.hpp"
#include "halt.hpp"
#include "job.hpp"
#include "job_list_reader.hpp"
#include "job_log.hpp"
#include "job_slots.hpp"
#include "progress.hpp"
#include "ssh_connections.hpp"
#include "ssh_login.hpp"

namespace pexec::cli {

enum class Mode { thread, process };
enum class OutputFormat { text, jsonl };
/// --kind: auto makes an item starting with http:// or https:// a URL job when there is no COMMAND.
enum class KindChoice { automatic, shell, url };
/// --color: auto colours only on a terminal, and never when NO_COLOR is set.
enum class ColorChoice { automatic, always, never };

/// One input source as the command line gives it.
struct SourceOption {
  std::optional<std::vector<std::string>> items;  // the words after ::: or :::+
  std::string path;                               // or a file (-a, ::::, ::::+); "-" is stdin
  bool linked = false;                            // :::+ or ::::+: item by item with the one before
};

struct Options {
  std::vector<std::string> command;              // COMMAND [ARG...]; empty: items are command lines
  std::vector<SourceOption> sources;             // -a files, then ::: and :::: sources in order; none: stdin
  std::string delimiter = "\n";                  // -d/--delimiter, -0/--null
  InputRules input;                              // --colsep, --trim, --col-header, --link, -r, -n, -N, -X, ...
  CommandTemplate::Settings template_settings;   // -q, -X, --col-header
  bool shellquote = false;                       // --shellquote
  Mode mode = Mode::thread;                      // -m/--mode
  JobSlots jobs;                                 // -j/--jobs/-P
  std::optional<int> max_tasks_per_child;        // --max-tasks-per-child (process mode)
  bool keep_order = false;                       // -k/--keep-order
  std::optional<double> timeout;                 // -t/--timeout, per job
  double grace = 1.0;                            // --grace
  std::optional<double> deadline;                // --deadline, whole run
  Halt halt;                                     // --halt, -w/--return-when
  bool let_running_finish = false;               // --let-running-finish
  int retries = 1;                               // --retries: runs of a failing job in all
  double retry_delay = 0.1;                      // --retry-delay: before the 2nd run, doubling after
  std::optional<double> delay;                   // --delay: between job starts
  OutputFormat format = OutputFormat::text;      // --format
  bool tag = false;                              // --tag (and --tagstring)
  std::string tagstring;                         // --tagstring; empty: the item is the tag
  ColorChoice color = ColorChoice::automatic;    // --color
  OutputMode output = OutputMode::group;         // --line-buffer, -u/--ungroup
  ProgressStyle progress = ProgressStyle::none;  // --bar, --progress, --eta
  bool force_progress = false;                   // --force-progress: also into a pipe or a file
  std::optional<std::size_t> total_jobs;         // --total-jobs
  std::optional<bool> summary;                   // --summary, --no-summary; default: on a terminal
  std::string joblog;                            // --joblog FILE (+FILE appends)
  Resume resume = Resume::none;                  // --resume, --resume-failed, --retry-failed
  std::string jsonl_file;                        // --jsonl-file/--results FILE.jsonl
  std::string junit_file;                        // --junit FILE
  bool dry_run = false;                          // --dry-run
  KindChoice kind = KindChoice::automatic;       // --kind
  UrlOptions url;                                // --method, -H, --max-redirects, --connect-timeout,
                                                 // --output-dir, --max-bytes
  std::vector<SshLogin> sshlogins;               // -S/--sshlogin, --sshloginfile; empty: this machine
  SshSettings ssh;                               // --ssh, --ssh-delay, --no-controlmaster, --env, ...
  std::vector<std::string> transfer_files;       // --transferfile/--transfer: per job, with {} strings
  std::vector<std::string> return_files;         // --return: per job, with {} strings
  std::string workdir;                           // --workdir; "..." a new folder per job
  bool every_host = false;                       // --onall, --nonall: each job on every host of -S
  SlurmSettings slurm;                           // --slurm: jobs as steps of the Slurm allocation

  /// COMMAND, parsed for its replacement strings.
  CommandTemplate command_template() const { return CommandTemplate(command, template_settings); }
  /// What every job of the run shares.
  RunSettings run_settings() const;
  /// Whether jobs run on hosts given by -S (":" alone included).
  bool remote() const { return !sshlogins.empty(); }
  /// Whether what pexec writes to `fd` (stdout or stderr) is in colour (--color, NO_COLOR).
  bool colour_on(int fd) const;
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
