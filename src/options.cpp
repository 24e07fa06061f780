#include "options.hpp"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <limits>

#include "url_job.hpp"

namespace pexec::cli {

namespace {

constexpr const char* kVersion = "pexec 0.1.0";
constexpr double kNoLimitSeconds = 1e9;

/// Accepts a number of seconds; above zero unless `allow_zero`. "inf" (and any number from 1e9,
/// about 32 years, up) means no limit.
CLI::Validator seconds(bool allow_zero) {
  return CLI::Validator(
      [allow_zero](std::string& text) -> std::string {
        try {
          std::size_t used = 0;
          double value = std::stod(text, &used);
          if (used != text.size() || !(value == value)) throw std::invalid_argument(text);
          if (value < 0 || (!allow_zero && value == 0)) {
            return allow_zero ? "must be 0 or more seconds" : "must be more than 0 seconds";
          }
        } catch (const std::exception&) {
          return "'" + text + "' is not a number of seconds";
        }
        return "";
      },
      "SECONDS");
}

/// all|first-completed|first-exception, or Python's spellings, in any case.
ReturnWhen parse_return_when(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  std::replace(text.begin(), text.end(), '_', '-');
  if (text == "all" || text == "all-completed") return ALL_COMPLETED;
  if (text == "first-completed") return FIRST_COMPLETED;
  if (text == "first-exception") return FIRST_EXCEPTION;
  throw UsageError("--return-when: '" + text + "' is not one of all, first-completed, first-exception");
}

}  // namespace

std::string Options::command_template() const {
  std::string joined;
  for (const std::string& word : command) {
    if (!joined.empty()) joined += ' ';
    joined += word;
  }
  return joined;
}

JobKind Options::kind_of(const std::string& item) const {
  switch (kind) {
    case KindChoice::shell:
      return JobKind::shell;
    case KindChoice::url:
      return JobKind::url;
    case KindChoice::automatic:
      break;
  }
  return command.empty() && is_url(item) ? JobKind::url : JobKind::shell;
}

std::optional<Options> parse_options(int argc, const char* const* argv) {
  Options options;
  // Everything after the first ":::" is an item, never an option.
  std::vector<std::string> args(argv + 1, argv + argc);
  auto separator = std::find(args.begin(), args.end(), ":::");
  if (separator != args.end()) {
    options.items.emplace(separator + 1, args.end());
    args.erase(separator, args.end());
  }

  CLI::App app("Run jobs in parallel in a thread or process pool, reporting each as it finishes.", "pexec");
  app.prefix_command();  // the first positional starts COMMAND; the rest is passed through
  app.set_version_flag("--version", kVersion);
  app.footer("Usage: pexec [OPTIONS] [COMMAND [ARG...]] [::: ITEM...]\nSee pexec(1) for the details.");
  std::string mode = "thread", return_when = "all", format = "text", kind = "auto";
  auto last = CLI::MultiOptionPolicy::TakeLast;
  app.add_option("-a,--arg-file", options.arg_files, "Read items from FILE (repeatable; - is stdin)")
      ->allow_extra_args(false)  // one FILE per -a: the next word may start COMMAND
      ->type_name("FILE");
  app.add_flag("-0,--null", options.null_separated, "Items are separated by NUL, not newline");
  app.add_option("-m,--mode", mode, "Run jobs from a thread pool or a process pool")
      ->transform(CLI::IsMember({"thread", "process"}, CLI::ignore_case))
      ->multi_option_policy(last);
  app.add_option("-j,--jobs", options.jobs, "Number of workers (default: the pool's default)")
      ->type_name("N")
      ->check(CLI::Range(1, 100000))
      ->multi_option_policy(last);
  app.add_option("--max-tasks-per-child", options.max_tasks_per_child,
                 "Replace a process worker after N jobs (process mode)")
      ->check(CLI::Range(1, 1000000000))
      ->multi_option_policy(last);
  app.add_flag("-k,--keep-order", options.keep_order, "Report jobs in input order");
  app.add_option("-t,--timeout", options.timeout, "Stop a job after SECONDS")
      ->check(seconds(false))
      ->multi_option_policy(last);
  app.add_option("--grace", options.grace, "Seconds between SIGTERM and SIGKILL when stopping a job (default 1)")
      ->check(seconds(true))
      ->multi_option_policy(last);
  app.add_option("--deadline", options.deadline, "Stop the whole run after SECONDS (exit 124)")
      ->check(seconds(false))
      ->multi_option_policy(last);
  app.add_option("-w,--return-when", return_when, "all, first-completed or first-exception")->multi_option_policy(last);
  app.add_flag("--let-running-finish", options.let_running_finish,
               "When stopping early, wait for running jobs instead of stopping them");
  app.add_option("--format", format, "Output format: text or jsonl")
      ->transform(CLI::IsMember({"text", "jsonl"}, CLI::ignore_case))
      ->multi_option_policy(last);
  app.add_flag("--tag", options.tag, "Prefix each output line with the item and a TAB");
  app.add_flag("--dry-run", options.dry_run, "Print the commands that would run, run nothing");
  // URL jobs.
  app.add_option("--kind", kind, "auto (http/https items are URL jobs), shell or url")
      ->transform(CLI::IsMember({"auto", "shell", "url"}, CLI::ignore_case))
      ->multi_option_policy(last);
  app.add_option("--method", options.url.method, "HTTP method of URL jobs: GET or HEAD")
      ->transform(CLI::IsMember({"GET", "HEAD"}, CLI::ignore_case))
      ->multi_option_policy(last);
  app.add_option("-H,--header", options.url.headers, "Add 'Name: value' to every request (repeatable)")
      ->allow_extra_args(false)
      ->type_name("HEADER");
  app.add_option("--max-redirects", options.url.max_redirects, "Follow at most N redirects (default 10)")
      ->check(CLI::Range(0, 1000))
      ->multi_option_policy(last);
  app.add_option("--connect-timeout", options.url.connect_timeout, "Limit each connection attempt to SECONDS")
      ->check(seconds(false))
      ->multi_option_policy(last);
  app.add_option("--output-dir", options.url.output_dir, "Save each body in DIR as SEQ-NAME (see pexec(1))")
      ->type_name("DIR")
      ->multi_option_policy(last);
  app.add_option("--max-bytes", options.url.max_bytes, "Fail a URL job whose body exceeds N bytes")
      ->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max()))
      ->multi_option_policy(last);
  app.add_option("--retries", options.url.retries,
                 "Retry connect errors, timeouts, 408, 429, 500, 502, 503, 504 up to N times")
      ->check(CLI::Range(0, 100))
      ->multi_option_policy(last);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::Success& e) {  // --help or --version
    app.exit(e);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  options.command = app.remaining();
  if (!options.command.empty() && options.command.front() == "--") {
    options.command.erase(options.command.begin());
  } else if (!options.command.empty() && options.command.front().starts_with("-")) {
    // CLI11 hands an unknown option over as the start of COMMAND; a command may begin with a
    // dash only after "--".
    throw UsageError("unknown option " + options.command.front() + " (put -- before a command that starts with -)");
  }
  // No limit at all rather than a huge one: a clock cannot add 1e10 seconds without overflow.
  for (std::optional<double>* limit : {&options.timeout, &options.deadline}) {
    if (*limit && !(**limit < kNoLimitSeconds)) limit->reset();
  }
  options.grace = std::min(options.grace, kNoLimitSeconds);
  for (const std::string& header : options.url.headers) {
    if (header.find_first_of("\r\n") != std::string::npos) {
      throw UsageError("--header: a header may not hold a carriage return or a line feed");
    }
  }
  options.mode = mode == "process" ? Mode::process : Mode::thread;
  options.format = format == "jsonl" ? OutputFormat::jsonl : OutputFormat::text;
  options.return_when = parse_return_when(return_when);
  if (options.max_tasks_per_child && options.mode != Mode::process) {
    throw UsageError("--max-tasks-per-child needs --mode process");
  }
  if (options.items && !options.arg_files.empty()) throw UsageError("give items with ::: or with -a, not both");
  options.kind = kind == "url" ? KindChoice::url : kind == "shell" ? KindChoice::shell : KindChoice::automatic;
  std::transform(options.url.method.begin(), options.url.method.end(), options.url.method.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (options.kind == KindChoice::url && !options.command.empty()) throw UsageError("--kind url takes no COMMAND");
  struct stat info;
  if (!options.url.output_dir.empty() &&
      (::stat(options.url.output_dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))) {
    throw UsageError("--output-dir: " + options.url.output_dir + " is not a directory");
  }
  return options;
}

}  // namespace pexec::cli
