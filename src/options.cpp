#include "options.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>

#include "foreign_options.hpp"
#include "help_formatter.hpp"
#include "url_job.hpp"

namespace pexec::cli {

namespace {

/// What --version prints: the version, a one-line description and the licence.
std::string version_text() {
  return "pexec " PEXEC_VERSION
         "\n"
         "A parallel job runner: shell commands or URLs, in a thread or process pool.\n"
         "Copyright (c) 2026 the pexec authors. MIT licence: free to use, change and share; no warranty.";
}
constexpr double kNoLimitSeconds = 1e9;

/// Accepts a number of seconds; above zero unless `allow_zero`. "inf" (and any number from 1e9,
/// about 32 years, up) means no limit.
CLI::Validator seconds(bool allow_zero) {
  return CLI::Validator(
      [allow_zero](std::string& text) -> std::string {
        if (text.ends_with('%')) return "a percentage (GNU parallel's --timeout N%) is not supported: give SECONDS";
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

/// -w's all|first-completed|first-exception (or Python's spellings, in any case) as the halt it
/// is: never, now,done=1, now,fail=1.
Halt parse_return_when(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  std::replace(text.begin(), text.end(), '_', '-');
  if (text == "all" || text == "all-completed") return Halt{};
  if (text == "first-completed") return Halt::parse("now,done=1");
  if (text == "first-exception") return Halt::parse("now,fail=1");
  throw UsageError("--return-when: '" + text + "' is not one of all, first-completed, first-exception");
}

}  // namespace

RunSettings Options::run_settings() const {
  RunSettings settings{timeout, grace, url, {}, {}, workdir, slurm};
  settings.output = {output, keep_order, tag, colour_on(STDOUT_FILENO), colour_on(STDERR_FILENO), -1};
  return settings;
}

bool Options::colour_on(int fd) const {
  if (color != ColorChoice::automatic) return color == ColorChoice::always;
  const char* no_color = std::getenv("NO_COLOR");  // https://no-color.org: set and not empty
  return !(no_color && *no_color) && ::isatty(fd);
}

std::optional<std::string> Options::url_in(const std::string& input) const {
  if (!command.empty() || kind == KindChoice::shell) return std::nullopt;
  std::size_t first = input.find_first_not_of(" \t\r\n");
  std::size_t last = input.find_last_not_of(" \t\r\n");
  std::string url = first == std::string::npos ? "" : input.substr(first, last - first + 1);
  // --kind url: anything is a URL job (one that is no http or https URL fails as such).
  if (kind == KindChoice::url) return first == std::string::npos ? input : url;
  if (is_url(url)) return url;
  return std::nullopt;
}

namespace {

/// -d's value with C escapes (\t \n \r \0 \\ \xHH \NNN) turned into their bytes.
std::string unescape(const std::string& text) {
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      bytes += text[i];
      continue;
    }
    char c = text[++i];
    auto digits = [&](int base, std::size_t most) {
      std::size_t used = 0;
      int value = 0;
      while (used < most && i + 1 + used < text.size()) {
        char d = static_cast<char>(std::tolower(static_cast<unsigned char>(text[i + 1 + used])));
        int digit = d >= '0' && d <= '9' ? d - '0' : d >= 'a' && d <= 'f' ? d - 'a' + 10 : 99;
        if (digit >= base) break;
        value = value * base + digit;
        ++used;
      }
      i += used;
      return static_cast<char>(value);
    };
    switch (c) {
      case 't':
        bytes += '\t';
        break;
      case 'n':
        bytes += '\n';
        break;
      case 'r':
        bytes += '\r';
        break;
      case 'x':
        bytes += digits(16, 2);
        break;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        --i;
        bytes += digits(8, 3);
        break;
      default:
        bytes += c;
    }
  }
  return bytes;
}

/// Option values that need more than CLI11's checks before they go into Options.
struct RawOptions {
  std::vector<SourceOption> sources;  // from ::: :::+ :::: ::::+
  std::vector<std::string> arg_files;
  std::string mode = "thread", return_when, halt, format = "text", kind = "auto";
  std::string jobs, delimiter, trim, results;
  std::string ctagstring, color = "auto";
  bool ctag = false, line_buffer = false, ungroup = false, bar = false, progress = false, eta = false;
  bool summary = false, no_summary = false;
  bool resume = false, resume_failed = false, retry_failed = false;
  std::optional<std::size_t> max_args, exact_args, max_lines, max_chars;
  bool null = false, xargs = false, will_cite = false;
  std::vector<std::string> sshlogins, env;
  std::string sshloginfile, ssh;
  std::optional<double> ssh_delay;
  bool no_controlmaster = false, controlmaster = false, filter_hosts = false;
  std::vector<std::string> transfer_files, returns, trc;
  bool transfer = false, onall = false, nonall = false, slurm = false;
  bool input_given = false;  // ::: :::: -a: not standard input by default
  std::optional<std::string> data, json, rate;
};

bool is_source_separator(const std::string& word) {
  return word == ":::" || word == ":::+" || word == "::::" || word == "::::+";
}

/// Moves the input sources (everything from the first ::: :::+ :::: ::::+ on) out of `args`.
std::vector<SourceOption> take_sources(std::vector<std::string>& args) {
  std::vector<SourceOption> sources;
  auto first = std::find_if(args.begin(), args.end(), is_source_separator);
  std::string separator;
  for (auto word = first; word != args.end(); ++word) {
    if (is_source_separator(*word)) {
      separator = *word;
      if (separator.starts_with(":::") && separator.size() <= 4 && separator != "::::") {  // ::: or :::+
        sources.push_back(SourceOption{std::vector<std::string>{}, "", separator == ":::+"});
      }
      continue;
    }
    if (separator == ":::" || separator == ":::+") {
      sources.back().items->push_back(*word);
    } else {  // each file after :::: is a source of its own; after ::::+ each is linked
      sources.push_back(SourceOption{std::nullopt, *word, separator == "::::+"});
    }
  }
  args.erase(first, args.end());
  return sources;
}

/// --trim's value.
Trim parse_trim(const std::string& text) {
  if (text == "n") return Trim::none;
  if (text == "l") return Trim::left;
  if (text == "r") return Trim::right;
  if (text == "lr" || text == "rl") return Trim::both;
  throw UsageError("--trim: '" + text + "' is not one of n, l, r, lr, rl");
}

/// Input sources, delimiters, columns and items per job, from `raw` into `options`.
void finish_input_options(Options& options, RawOptions& raw) {
  raw.input_given = !raw.arg_files.empty() || !raw.sources.empty();
  for (const std::string& path : raw.arg_files) options.sources.push_back(SourceOption{std::nullopt, path, false});
  for (SourceOption& source : raw.sources) options.sources.push_back(std::move(source));
  if (options.sources.empty()) options.sources.push_back(SourceOption{std::nullopt, "-", false});
  if (options.sources.front().linked) {
    throw UsageError(":::+ and ::::+ link a source to the one before it, and there is none");
  }
  if (std::count_if(options.sources.begin(), options.sources.end(),
                    [](const SourceOption& source) { return !source.items && source.path == "-"; }) > 1) {
    throw UsageError("standard input (-) can be only one of the input sources");
  }
  if (raw.null && !raw.delimiter.empty()) throw UsageError("give -0 or -d, not both");
  if (raw.null) options.delimiter = std::string(1, '\0');
  if (!raw.delimiter.empty()) options.delimiter = unescape(raw.delimiter);
  if (options.delimiter.empty()) throw UsageError("-d: the delimiter cannot be empty");
  if (!raw.trim.empty()) options.input.trim = parse_trim(raw.trim);
  if (options.input.header) {
    const std::string& header = *options.input.header;
    if (header.empty() || std::all_of(header.begin(), header.end(), ::isdigit)) {
      throw UsageError("--col-header: give : (the first line) or a regex the first line matches");
    }
    options.template_settings.column_names = true;
  }
  if (raw.max_args && raw.exact_args) throw UsageError("give -n or -N, not both");
  if (options.template_settings.context_replace && raw.xargs) throw UsageError("give -X or --xargs, not both");
  options.input.max_args = raw.max_args ? raw.max_args : raw.exact_args;
  if (raw.exact_args == std::size_t{0}) {
    options.input.no_arguments = true;
    options.input.max_args = 1;
  }
  // -L fills the line as -X does (GNU parallel's rule), with --xargs as --xargs does.
  if (raw.max_lines && !raw.xargs) options.template_settings.context_replace = true;
  options.input.max_lines = raw.max_lines.value_or(0);
  options.input.fill_line = options.template_settings.context_replace || raw.xargs;
  options.input.max_chars = raw.max_chars.value_or(0);
  for (const std::string& word : options.command) {
    if (word.find("{=") != std::string::npos) {
      throw UsageError("perl expressions ({= ... =}) are not supported: use {} and its forms (see pexec(1))");
    }
  }
  if (options.shellquote && !options.command.empty()) throw UsageError("--shellquote takes no COMMAND");
}

/// --halt, or -w as the halt it is (--let-running-finish making its "now" a "soon").
void finish_halt(Options& options, const RawOptions& raw) {
  if (!raw.halt.empty() && !raw.return_when.empty()) throw UsageError("give --halt or -w/--return-when, not both");
  if (!raw.halt.empty()) {
    try {
      options.halt = Halt::parse(raw.halt);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--halt: ") + e.what());
    }
  } else if (!raw.return_when.empty()) {
    options.halt = parse_return_when(raw.return_when);
    if (options.let_running_finish && options.halt.when == Halt::When::now) options.halt.when = Halt::When::soon;
  }
}

/// --joblog and what reads it back, --retries, the report files and --tagstring.
void finish_record_options(Options& options, const RawOptions& raw) {
  if (raw.resume + raw.resume_failed + raw.retry_failed > 1) {
    throw UsageError("give one of --resume, --resume-failed, --retry-failed");
  }
  options.resume = raw.resume          ? Resume::unrecorded
                   : raw.resume_failed ? Resume::unsucceeded
                   : raw.retry_failed  ? Resume::failed_only
                                       : Resume::none;
  if (options.resume != Resume::none && options.joblog.empty()) {
    throw UsageError(std::string(raw.resume          ? "--resume"
                                 : raw.resume_failed ? "--resume-failed"
                                                     : "--retry-failed") +
                     " reads the joblog: give --joblog FILE");
  }
  if (options.joblog == "+" || options.joblog == "-" || options.joblog == "+-") {
    throw UsageError("--joblog: give a FILE (the joblog is never written to stdout, which carries the jobs' output)");
  }
  if (options.resume == Resume::failed_only) {
    // The commands come from the joblog, as in GNU parallel: the input is not read.
    options.command.clear();
    options.sources = {SourceOption{std::vector<std::string>{}, "", false}};
  }
  options.retries = std::max(1, options.retries);  // GNU parallel: 0 and 1 both mean one run
  if (!raw.results.empty()) {
    if (!raw.results.ends_with(".jsonl")) {
      throw UsageError("--results: give FILE.jsonl (GNU parallel's output directories and CSV are not supported)");
    }
    if (!options.jsonl_file.empty()) throw UsageError("give --results or --jsonl-file, not both");
    options.jsonl_file = raw.results;
  }
  if (!raw.ctagstring.empty()) options.tagstring = raw.ctagstring;
  if (!options.tagstring.empty() || raw.ctag) options.tag = true;
}

/// How the run looks: live output, colour, progress and the summary.
void finish_display_options(Options& options, const RawOptions& raw) {
  if (raw.line_buffer && raw.ungroup) throw UsageError("give --line-buffer or -u/--ungroup, not both");
  options.output = raw.line_buffer ? OutputMode::line : raw.ungroup ? OutputMode::ungroup : OutputMode::group;
  if (options.output != OutputMode::group && options.format == OutputFormat::jsonl) {
    throw UsageError(std::string(raw.line_buffer ? "--line-buffer" : "-u/--ungroup") +
                     " writes output as it comes; --format jsonl reports each job's output whole");
  }
  if (options.output == OutputMode::ungroup && options.tag) {
    throw UsageError("-u/--ungroup writes bytes as they come, not lines: use --line-buffer with --tag");
  }
  options.color = raw.color == "always"  ? ColorChoice::always
                  : raw.color == "never" ? ColorChoice::never
                                         : ColorChoice::automatic;
  if (raw.bar && (raw.progress || raw.eta)) throw UsageError("give --bar or --progress/--eta, not both");
  options.progress = raw.bar                   ? ProgressStyle::bar
                     : raw.progress || raw.eta ? ProgressStyle::status
                                               : ProgressStyle::none;
  if (options.force_progress && options.progress == ProgressStyle::none) {
    throw UsageError("--force-progress needs --bar, --progress or --eta");
  }
  if (raw.summary && raw.no_summary) throw UsageError("give --summary or --no-summary, not both");
  if (raw.summary || raw.no_summary) options.summary = raw.summary;
}

/// --rate's N, N/s, N/m or N/h as starts per second.
double parse_rate(const std::string& text) {
  std::size_t slash = text.find('/');
  std::string unit = slash == std::string::npos ? "s" : text.substr(slash + 1);
  double per = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : 0;
  double count = 0;
  std::size_t used = 0;
  try {
    count = std::stod(text.substr(0, slash), &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (per == 0 || used == 0 || used != text.substr(0, slash).size() || !(count > 0) || count / per > 1e6) {
    throw UsageError("--rate: '" + text + "' is not N/s, N/m or N/h with N above 0");
  }
  return count / per;
}

/// Mode, slots, the wait strategy, the format and the time limits, from `raw` into `options`.
void finish_run_options(Options& options, const RawOptions& raw) {
  std::string mode = raw.mode;
  std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return std::tolower(c); });
  if (mode != "thread" && mode != "process") {
    throw UsageError("--mode: '" + raw.mode + "' is not thread or process (GNU parallel's -m is --xargs here)");
  }
  options.mode = mode == "process" ? Mode::process : Mode::thread;
  if (!raw.jobs.empty()) {
    try {
      options.jobs = JobSlots::parse(raw.jobs);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--jobs: ") + e.what());
    }
  }
  // No limit at all rather than a huge one: a clock cannot add 1e10 seconds without overflow.
  for (std::optional<double>* limit : {&options.timeout, &options.deadline}) {
    if (*limit && !(**limit < kNoLimitSeconds)) limit->reset();
  }
  options.grace = std::min(options.grace, kNoLimitSeconds);
  options.format = raw.format == "jsonl" ? OutputFormat::jsonl : OutputFormat::text;
  if (raw.rate) {
    if (options.delay) throw UsageError("--rate and --delay both space job starts: give one of them");
    options.url.rate = parse_rate(*raw.rate);
    options.delay = 1 / *options.url.rate;  // the engine spaces every start; UrlJobs spaces held URL jobs again
  }
  finish_halt(options, raw);
  if (options.max_tasks_per_child && options.mode != Mode::process) {
    throw UsageError("--max-tasks-per-child needs --mode process");
  }
  options.kind = raw.kind == "url" ? KindChoice::url : raw.kind == "shell" ? KindChoice::shell : KindChoice::automatic;
  if (options.kind == KindChoice::url) {
    if (!options.command.empty()) throw UsageError("--kind url takes no COMMAND");
    if (!options.input.column_separator.empty() || options.input.max_args || options.input.fill_line ||
        options.template_settings.quote_words) {
      throw UsageError("--kind url: a URL job takes one item (no --colsep, -n, -N, -X, --xargs, -L or -q)");
    }
  }
}

/// -S and the options that go with it: the logins, ssh's command and connections, --env.
void finish_remote_options(Options& options, RawOptions& raw, const CLI::App& app) {
  std::vector<std::string> values = raw.sshlogins;
  try {
    if (!raw.sshloginfile.empty()) {
      std::vector<std::string> lines = read_sshloginfile(raw.sshloginfile);
      if (lines.empty()) throw UsageError("--sshloginfile: " + raw.sshloginfile + " holds no login");
      values.insert(values.end(), lines.begin(), lines.end());
    }
    options.sshlogins = parse_sshlogins(values);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  // --trc F: --transfer --return F --cleanup; --transfer: --transferfile {}.
  options.transfer_files = raw.transfer_files;
  if (raw.transfer || !raw.trc.empty()) options.transfer_files.push_back("{}");
  options.return_files = raw.returns;
  options.return_files.insert(options.return_files.end(), raw.trc.begin(), raw.trc.end());
  if (!raw.trc.empty()) options.ssh.cleanup = true;
  for (const std::vector<std::string>* files :
       {&options.transfer_files, &options.return_files, &options.ssh.basefiles}) {
    for (const std::string& file : *files) {
      if (file.empty()) throw UsageError("--transferfile, --return, --basefile: give a file name");
    }
  }
  if (app.count("--workdir") > 0 && options.workdir.empty()) throw UsageError("--workdir: give a folder");
  if (!options.remote()) {
    for (const char* name :
         {"--ssh", "--ssh-delay", "--no-controlmaster", "--controlmaster", "--env", "--filter-hosts", "--transferfile",
          "--transfer", "--return", "--cleanup", "--trc", "--basefile", "--onall", "--nonall"}) {
      if (app.count(name) > 0) throw UsageError(std::string(name) + " applies to -S/--sshlogin hosts only");
    }
    return;
  }
  options.ssh.workdir = options.workdir == "..." ? "" : options.workdir;
  if (raw.onall && raw.nonall) throw UsageError("give --onall or --nonall, not both");
  options.every_host = raw.onall || raw.nonall;
  if (raw.nonall) {  // COMMAND once on every host: one job without arguments
    if (raw.input_given) throw UsageError("--nonall reads no input: use --onall to run each job on every host");
    options.sources = {SourceOption{std::vector<std::string>{""}, "", false}};
    options.input.no_arguments = true;
    options.input.max_args = 1;
    if (options.command.empty()) throw UsageError("--nonall: give the COMMAND to run on every host");
  }
  if (raw.no_controlmaster && raw.controlmaster)
    throw UsageError("give --controlmaster or --no-controlmaster, not both");
  if (options.kind == KindChoice::url) throw UsageError("-S runs shell jobs: URL jobs are fetched here (--kind url)");
  if (options.jobs.given() && !options.jobs.is_count()) {
    throw UsageError("-j with -S: give a number of jobs per host (-j N), or N/ before a host");
  }
  if (!raw.ssh.empty()) {
    std::istringstream words(raw.ssh);
    options.ssh.ssh.clear();
    for (std::string word; words >> word;) options.ssh.ssh.push_back(word);
    if (options.ssh.ssh.empty()) throw UsageError("--ssh: give a command");
  }
  options.ssh.delay = raw.ssh_delay.value_or(0);
  options.ssh.controlmaster = !raw.no_controlmaster;
  if (options.url.connect_timeout) options.ssh.connect_timeout = *options.url.connect_timeout;
  if (options.jobs.given()) options.ssh.jobs_per_host = options.jobs.workers(1);
  for (const std::string& name : raw.env) {
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                 std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
    if (!valid) throw UsageError("--env: '" + name + "' is not a variable name");
    const char* value = std::getenv(name.c_str());
    if (!value) throw UsageError("--env: " + name + " is not set here");
    options.ssh.exports.push_back(name + "=" + value);
  }
}

/// --slurm: only inside an allocation, whose tasks are the slots (unless -j says otherwise).
void finish_slurm_options(Options& options, const RawOptions& raw) {
  if (!raw.slurm) return;
  const char* job_id = std::getenv("SLURM_JOB_ID");
  if (!job_id || !*job_id) {
    throw UsageError(
        "--slurm runs jobs as steps of a Slurm allocation, and this is none (SLURM_JOB_ID is unset): "
        "run it inside one, as in salloc -n 4 pexec --slurm ...");
  }
  if (options.remote()) throw UsageError("give -S or --slurm, not both");
  if (options.kind == KindChoice::url) throw UsageError("--slurm runs shell jobs: URL jobs are fetched here");
  if (options.output != OutputMode::group) {
    throw UsageError("--slurm with --line-buffer or -u is not supported yet: each step's output comes whole");
  }
  if (options.jobs.given() && !options.jobs.is_count()) {
    throw UsageError("-j with --slurm: give a number of jobs (the default is the allocation's tasks)");
  }
  auto number = [](const char* name) {
    const char* value = std::getenv(name);
    int n = value ? std::atoi(value) : 0;
    return n > 0 ? n : 1;
  };
  if (!options.jobs.given()) options.jobs = JobSlots::parse(std::to_string(number("SLURM_NTASKS")));
  options.slurm = SlurmSettings{true, number("SLURM_CPUS_PER_TASK")};
}

/// URL options: well formed, and never given to a run that has no URL job.
void check_url_options(Options& options, const RawOptions& raw, const CLI::App& app) {
  for (const std::string& header : options.url.headers) {
    if (header.find_first_of("\r\n") != std::string::npos) {
      throw UsageError("--header: a header may not hold a carriage return or a line feed");
    }
    std::size_t colon = header.find(':');
    if (colon == 0 || colon == std::string::npos || header.find_first_of(" \t") < colon) {
      throw UsageError("--header: '" + header +
                       "' is not 'Name: value' (an HTTP header; GNU parallel's --header is --col-header here)");
    }
  }
  UrlOptions& url = options.url;
  if (url.method.empty() || url.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                         "0123456789!#$%&'*+-.^_`|~") != std::string::npos) {
    throw UsageError("--method: '" + url.method + "' is not an HTTP method");
  }
  std::transform(url.method.begin(), url.method.end(), url.method.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if ((raw.data ? 1 : 0) + (raw.json ? 1 : 0) + (url.data_file.empty() ? 0 : 1) > 1) {
    throw UsageError("--data, --data-file and --json each give the body: give one of them");
  }
  url.data = raw.data ? raw.data : raw.json;
  url.json = raw.json.has_value();
  if (url.has_body() && app.count("--method") == 0) url.method = "POST";
  if (url.method == "HEAD" && url.has_body()) {
    throw UsageError("--method HEAD sends no body: drop --data, --data-file or --json");
  }
  if (!url.user.empty() && url.user.find(':') == std::string::npos) {
    throw UsageError("--user takes NAME:PASSWORD (pexec never prompts for a password)");
  }
  if (!url.key.empty() && url.cert.empty()) throw UsageError("--key needs --cert");
  for (const std::string* file : {&url.cacert, &url.cert, &url.key}) {
    if (!file->empty() && ::access(file->c_str(), R_OK) != 0) {
      throw UsageError("cannot read " + *file + ": " + std::strerror(errno));
    }
  }
  url.per_job_headers = std::any_of(url.headers.begin(), url.headers.end(),
                                    [](const std::string& header) { return header.find('{') != std::string::npos; });
  if (url.skip_existing && url.output.empty() && url.output_dir.empty()) {
    throw UsageError("--skip-existing needs -O or --output-dir: there is no file to find");
  }
  if (url.create_dirs && url.output.empty() && url.output_dir.empty()) {
    throw UsageError("--create-dirs needs -O or --output-dir: there is no folder to make");
  }
  if (url.stdout_body && (!url.output.empty() || !url.output_dir.empty())) {
    throw UsageError("--stdout-body reports the body, -O and --output-dir save it: give one of them");
  }
  if (!url.output.empty()) {
    if (url.output.front() == '/') throw UsageError("-O: '" + url.output + "' is not a path under --output-dir");
    if (url.output_dir.empty()) url.output_dir = ".";
  }
  // Why no job of this run can be a URL job, if that is known before reading any input.
  std::string shell_only;
  if (!options.command.empty()) {
    shell_only = "a COMMAND makes every job a shell job";
  } else if (options.kind == KindChoice::shell) {
    shell_only = "--kind shell makes every job a shell job";
  } else if (options.kind == KindChoice::automatic && options.resume != Resume::failed_only &&
             options.sources.front().items &&
             std::none_of(options.sources.front().items->begin(), options.sources.front().items->end(),
                          [](const std::string& item) { return is_url(item); })) {
    shell_only = "no ::: item is a URL";  // a job's line starts with an item of the first source
  }
  for (const char* name : {"--method",       "--header",    "--max-redirects", "--connect-timeout",
                           "--output-dir",   "--max-bytes", "--data",          "--data-file",
                           "--json",         "--user",      "--user-agent",    "--insecure",
                           "--cacert",       "--cert",      "--key",           "--http1.1",
                           "--max-per-host", "--output",    "--create-dirs",   "--skip-existing",
                           "--stdout-body"}) {
    if (options.remote() && std::string(name) == "--connect-timeout") continue;  // ssh's too
    if (!shell_only.empty() && app.count(name) > 0) {
      throw UsageError(std::string(name) + " applies to URL jobs only, and " + shell_only);
    }
  }
  struct stat info;
  if (url.create_dirs && !url.output_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(url.output_dir, error);
    if (error) throw UsageError("--create-dirs: cannot make " + url.output_dir + ": " + error.message());
  }
  if (!url.output_dir.empty() && (::stat(url.output_dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))) {
    throw UsageError("--output-dir: " + url.output_dir + " is not a directory (--create-dirs makes it)");
  }
}

}  // namespace

std::optional<Options> parse_options(int argc, const char* const* argv) {
  Options options;
  // Everything from the first ::: (or :::+ :::: ::::+) on is input, never an option.
  std::vector<std::string> args(argv + 1, argv + argc);
  RawOptions raw;
  raw.sources = take_sources(args);

  CLI::App app("Run jobs in parallel in a thread or process pool, reporting each as it finishes.", "pexec");
  app.formatter(
      std::make_shared<HelpFormatter>("pexec [OPTIONS] [COMMAND [ARG...]] [:::[+] ITEM... | ::::[+] FILE...]..."));
  app.get_formatter()->column_width(32);
  app.footer(
      "Without ::: or ::::, items (or whole command lines, without COMMAND) come from standard input.\n"
      "Exit status: 0 every job succeeded, 1 a job failed, 2 usage error, 124 --deadline passed,\n"
      "130/143 interrupted; a --halt exits as its job did. See pexec(1) for the details.");
  app.prefix_command();  // the first positional starts COMMAND; the rest is passed through
  app.set_help_flag();   // added again at the end, in the "Other" group
  auto last = CLI::MultiOptionPolicy::TakeLast;
  app.option_defaults()->group("Input");
  app.add_option("-a,--arg-file", raw.arg_files, "Read items from FILE (- is stdin); one input source per -a")
      ->allow_extra_args(false)  // one FILE per -a: the next word may start COMMAND
      ->type_name("FILE");
  app.add_flag("-0,--null", raw.null, "Items are separated by NUL, not newline");
  app.add_option("-d,--delimiter", raw.delimiter, "Items end with DELIM, not newline (escapes such as \\t allowed)")
      ->type_name("DELIM")
      ->multi_option_policy(last);
  app.add_flag("--link,--xapply", options.input.link_all, "Take item i of every source together (shorter ones wrap)");
  app.add_option("-C,--colsep", options.input.column_separator, "Split each item into columns {1} {2} ... at REGEX")
      ->type_name("REGEX")
      ->multi_option_policy(last);
  app.add_option("--trim", raw.trim, "Trim columns: n (none), l, r, lr (default n; lr with --colsep)")
      ->type_name("n|l|r|lr")
      ->multi_option_policy(last);
  app.add_option("--col-header", options.input.header, "The first line names the columns: {name} (: or a REGEX)")
      ->type_name("REGEX")
      ->multi_option_policy(last);
  app.add_flag("-r,--no-run-if-empty", options.input.skip_blank, "No job for items that are only white space");
  app.add_option("-n,--max-args", raw.max_args, "Up to N items per job")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000))
      ->multi_option_policy(last);
  app.add_option("-N,--max-replace-args", raw.exact_args, "N items per job as {1}..{N} (0: none on the line)")
      ->type_name("N")
      ->check(CLI::Range(0, 1000000))
      ->multi_option_policy(last);
  app.add_flag("-X", options.template_settings.context_replace,
               "As many items per job as fit, repeating the word around {} for each");
  app.add_flag("--xargs", raw.xargs, "As many items per job as fit, {} being all of them");
  app.add_option("-L,--max-lines", raw.max_lines, "Up to N lines per job (as -X)")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000))
      ->multi_option_policy(last);
  app.add_option("-s,--max-chars", raw.max_chars, "Command lines of at most N bytes (default 131071)")
      ->type_name("N")
      ->check(CLI::Range(16, 100000000))
      ->multi_option_policy(last);
  app.add_flag("-q,--quote", options.template_settings.quote_words, "Quote COMMAND's words: no shell syntax in them");
  app.add_flag("--shellquote", options.shellquote, "Print each item quoted for the shell, run nothing");
  app.option_defaults()->group("Running");
  app.add_option("-m,--mode", raw.mode, "Run jobs from a thread pool or a process pool (default thread)")
      ->type_name("thread|process")
      ->multi_option_policy(last);
  app.add_option("-j,--jobs,-P,--max-procs", raw.jobs,
                 "Jobs at once (default: CPU threads): N, 0 (many), +N/-N, N%, FILE")
      ->type_name("N")
      ->multi_option_policy(last);
  app.add_option("--max-tasks-per-child", options.max_tasks_per_child,
                 "Replace a process worker after N jobs (process mode; default never)")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000000))
      ->multi_option_policy(last);
  app.add_flag("-k,--keep-order", options.keep_order, "Report jobs in input order (default: as they finish)");
  app.add_option("--rate", raw.rate, "Start at most N jobs a second (N/s), a minute (N/m) or an hour (N/h)")
      ->type_name("N[/s|/m|/h]")
      ->multi_option_policy(last);
  app.add_option("--delay", options.delay, "Start jobs at least SECONDS apart (default 0)")
      ->type_name("SECONDS")
      ->check(seconds(true))
      ->multi_option_policy(last);
  app.option_defaults()->group("Stopping and retrying");
  app.add_option("-t,--timeout", options.timeout, "Stop a job after SECONDS (default: no limit)")
      ->type_name("SECONDS")
      ->check(seconds(false))
      ->multi_option_policy(last);
  app.add_option("--grace", options.grace, "Seconds between SIGTERM and SIGKILL when stopping a job (default 1)")
      ->type_name("SECONDS")
      ->check(seconds(true))
      ->multi_option_policy(last);
  app.add_option("--deadline", options.deadline, "Stop the whole run after SECONDS (exit 124; default: no limit)")
      ->type_name("SECONDS")
      ->check(seconds(false))
      ->multi_option_policy(last);
  app.add_option("-w,--return-when", raw.return_when, "Stop when: all (default), first-completed or first-exception")
      ->type_name("WHEN")
      ->multi_option_policy(last);
  app.add_option("--halt,--halt-on-error", raw.halt,
                 "Stop the run: never (default), or now|soon,fail|success|done=N|N%")
      ->type_name("WHEN,WHY=N")
      ->multi_option_policy(last);
  app.add_flag("--let-running-finish", options.let_running_finish,
               "When stopping early, wait for running jobs instead of stopping them");
  app.add_option("--retries", options.retries, "Run a failing job up to N times in all (default 1)")
      ->type_name("N")
      ->check(CLI::Range(0, 100))
      ->multi_option_policy(last);
  app.add_option("--retry-delay", options.retry_delay,
                 "Wait SECONDS before a 2nd run, twice that before a 3rd (default 0)")
      ->type_name("SECONDS")
      ->check(seconds(true))
      ->multi_option_policy(last);
  app.option_defaults()->group("Records");
  app.add_option("--joblog", options.joblog, "Log each job run to FILE, GNU parallel's format (+FILE appends)")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.add_flag("--resume", raw.resume, "Skip the jobs the joblog has a line for");
  app.add_flag("--resume-failed", raw.resume_failed, "Skip the jobs the joblog records as succeeded");
  app.add_flag("--retry-failed", raw.retry_failed, "Run the joblog's failed jobs again, from the joblog's commands");
  app.add_option("--jsonl-file", options.jsonl_file, "Write the JSON lines report to FILE as well")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.add_option("--results", raw.results, "--jsonl-file FILE.jsonl")
      ->type_name("FILE.jsonl")
      ->multi_option_policy(last);
  app.add_option("--junit", options.junit_file, "Write a JUnit XML report to FILE at the end")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.option_defaults()->group("Output");
  app.add_option("--format", raw.format, "Output format: text (default) or jsonl, one JSON object per job")
      ->type_name("text|jsonl")
      ->transform(CLI::IsMember({"text", "jsonl"}, CLI::ignore_case))
      ->multi_option_policy(last);
  app.add_flag("--tag", options.tag, "Prefix each output line with the item and a TAB");
  app.add_option("--tagstring", options.tagstring, "--tag with STR (replacement strings allowed) as the prefix")
      ->type_name("STR")
      ->multi_option_policy(last);
  app.add_flag("--ctag", raw.ctag, "--tag (tags are in colour whenever --color allows)");
  app.add_option("--ctagstring", raw.ctagstring, "--tagstring (in colour whenever --color allows)")
      ->type_name("STR")
      ->multi_option_policy(last);
  app.add_flag("--line-buffer,--lb", raw.line_buffer, "Write jobs' output as it comes, whole lines at a time");
  app.add_flag("-u,--ungroup", raw.ungroup, "Write jobs' output as it comes, bytes as they arrive");
  app.add_option("--color,--colour", raw.color, "auto (default: on a terminal, without NO_COLOR), always or never")
      ->type_name("WHEN")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->multi_option_policy(last);
  app.option_defaults()->group("Progress");
  app.add_flag("--bar", raw.bar, "Show a progress bar on stderr's terminal");
  app.add_flag("--progress", raw.progress, "Show a status line (done, failed, rate, ETA) on stderr's terminal");
  app.add_flag("--eta", raw.eta, "--progress");
  app.add_flag("--force-progress", options.force_progress,
               "Show progress also when stderr is no terminal (a line a second)");
  app.add_option("--total-jobs,--total", options.total_jobs, "The number of jobs, for progress on standard input")
      ->type_name("N")
      ->multi_option_policy(last);
  app.add_flag("--summary", raw.summary, "End with a summary line on stderr (default: on a terminal)");
  app.add_flag("--no-summary", raw.no_summary, "No summary line, even on a terminal");
  app.option_defaults()->group("URL jobs");
  app.add_option("--kind", raw.kind, "auto (default: http/https items are URL jobs), shell or url")
      ->type_name("auto|shell|url")
      ->transform(CLI::IsMember({"auto", "shell", "url"}, CLI::ignore_case))
      ->multi_option_policy(last);
  app.add_option("--method", options.url.method, "HTTP method of URL jobs (default GET; POST with a body)")
      ->type_name("METHOD")
      ->multi_option_policy(last);
  app.add_option("-H,--header", options.url.headers, "Add 'Name: value' to every request (repeatable)")
      ->allow_extra_args(false)
      ->type_name("HEADER");
  app.add_option("--max-redirects", options.url.max_redirects, "Follow at most N redirects (default 10)")
      ->type_name("N")
      ->check(CLI::Range(0, 1000))
      ->multi_option_policy(last);
  app.add_option("--connect-timeout", options.url.connect_timeout,
                 "Limit each connection attempt (default: URL jobs 300, ssh 10)")
      ->type_name("SECONDS")
      ->check(seconds(false))
      ->multi_option_policy(last);
  app.add_option("--output-dir", options.url.output_dir, "Save each body in DIR as SEQ-NAME (see pexec(1))")
      ->type_name("DIR")
      ->multi_option_policy(last);
  app.add_option("--max-bytes", options.url.max_bytes, "Fail a URL job whose body exceeds N bytes (default: no limit)")
      ->type_name("N")
      ->check(CLI::Range(std::int64_t{0}, std::numeric_limits<std::int64_t>::max()))
      ->multi_option_policy(last);
  app.add_option("--data", raw.data, "Send BODY as the body, POST unless --method ({} strings: per job)")
      ->type_name("BODY")
      ->multi_option_policy(last);
  app.add_option("--data-file", options.url.data_file, "Send the bytes of FILE as the body ({} strings: per job)")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.add_option("--json", raw.json, "Send BODY as a JSON body (content type and accept set), POST")
      ->type_name("BODY")
      ->multi_option_policy(last);
  app.add_option("--user", options.url.user, "Authenticate as LOGIN, that is NAME:PASSWORD (HTTP basic)")
      ->type_name("LOGIN")
      ->multi_option_policy(last);
  app.add_option("--user-agent", options.url.user_agent, "User-Agent of every request (default pexec/VERSION)")
      ->type_name("AGENT")
      ->multi_option_policy(last);
  app.add_flag("--insecure", options.url.insecure, "Do not check TLS certificates or host names");
  app.add_option("--cacert", options.url.cacert, "Trust the CAs in FILE (PEM) instead of the system's")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.add_option("--cert", options.url.cert, "Present the client certificate in FILE (PEM)")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.add_option("--key", options.url.key, "The private key of --cert (PEM; default: in --cert's file)")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.add_flag("--http1.1", options.url.http1_1, "Use HTTP/1.1 only (default: HTTP/2 over https, multiplexed)");
  app.add_option("--max-per-host", options.url.max_per_host, "Run at most N transfers at once to one host")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000))
      ->multi_option_policy(last);
  app.add_option("-O,--output", options.url.output, "Save each body as FILE under --output-dir ({} strings)")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.add_flag("--create-dirs", options.url.create_dirs, "Make --output-dir and the folders -O names");
  app.add_flag("--skip-existing", options.url.skip_existing, "Do not fetch a URL whose output file exists");
  app.add_flag("--stdout-body", options.url.stdout_body, "Report each body as the job's output");
  app.option_defaults()->group("Remote hosts");
  app.add_option("-S,--sshlogin", raw.sshlogins, "Run jobs on [N/][user@]host[:port],... over ssh (: is here)")
      ->allow_extra_args(false)
      ->type_name("LOGINS");
  app.add_option("--slf,--sshloginfile", raw.sshloginfile, "Read logins from FILE, one per line (# comments)")
      ->type_name("FILE")
      ->multi_option_policy(last);
  app.add_option("--ssh", raw.ssh, "The ssh command, with its options (default ssh)")
      ->type_name("CMD")
      ->multi_option_policy(last);
  app.add_option("--ssh-delay", raw.ssh_delay, "Start ssh connections SECONDS apart (default 0)")
      ->type_name("SECONDS")
      ->check(seconds(true))
      ->multi_option_policy(last);
  app.add_flag("--no-controlmaster", raw.no_controlmaster, "A new ssh login per job, no shared connection");
  app.add_flag("-M,--controlmaster", raw.controlmaster, "One shared connection per host (the default)");
  app.add_option("--env", raw.env, "Export NAME (from here) to remote jobs (repeatable)")
      ->allow_extra_args(false)
      ->type_name("NAME");
  app.add_flag("--filter-hosts", raw.filter_hosts, "Drop hosts that are down (the default: all are checked)");
  app.add_option("--tf,--transferfile", raw.transfer_files,
                 "Send FILE to the job's host first ({} strings; repeatable)")
      ->allow_extra_args(false)
      ->type_name("FILE");
  app.add_flag("--transfer", raw.transfer, "Send each job's item, a file, to its host (--tf {})");
  app.add_option("--return", raw.returns, "Bring FILE back from the host after the job ({} strings; repeatable)")
      ->allow_extra_args(false)
      ->type_name("FILE");
  app.add_flag("--cleanup", options.ssh.cleanup, "Remove what was sent and brought back from the host");
  app.add_option("--trc", raw.trc, "--transfer --return FILE --cleanup")->allow_extra_args(false)->type_name("FILE");
  app.add_option("--bf,--basefile", options.ssh.basefiles, "Send FILE to every host once, before any job")
      ->allow_extra_args(false)
      ->type_name("FILE");
  app.add_flag("--onall", raw.onall, "Run every job on every host");
  app.add_flag("--nonall", raw.nonall, "Run COMMAND once on every host (no input)");
  app.add_flag("--slurm", raw.slurm, "Run each job as a step of the Slurm allocation pexec runs in");
  app.add_option("--wd,--workdir", options.workdir, "Run jobs in DIR (... a new folder per job; default: here, home)")
      ->type_name("DIR")
      ->multi_option_policy(last);
  app.option_defaults()->group("Other");
  app.add_flag("--dry-run", options.dry_run, "Print the commands that would run, run nothing");
  app.add_flag("--will-cite", raw.will_cite, "Accepted for GNU parallel's scripts; does nothing");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.set_version_flag("--version", version_text(), "Print the version and the licence, and exit");

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
  } else if (!options.command.empty() && options.command.front().starts_with("-") && options.command.front() != "-") {
    // CLI11 hands an unknown option over as the start of COMMAND; a command may begin with a
    // dash only after "--".
    const std::string& word = options.command.front();
    if (std::optional<std::string> message = foreign_option_message(word)) throw UsageError(*message);
    if (looks_like_command(word))
      throw UsageError("unknown option " + word + " (put -- before a command that starts with -)");
    throw UsageError("unknown option " + word + " (see pexec --help)");
  }
  finish_input_options(options, raw);
  finish_run_options(options, raw);
  finish_record_options(options, raw);
  finish_display_options(options, raw);
  finish_remote_options(options, raw, app);
  finish_slurm_options(options, raw);
  check_url_options(options, raw, app);
  return options;
}

}  // namespace pexec::cli
