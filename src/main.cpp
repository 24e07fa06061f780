// pexec: parse the options, build the job source, pick the pool, stream results to a reporter.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <algorithm>

#include "command_template.hpp"
#include "engine.hpp"
#include "job_executor.hpp"
#include "job_list_reader.hpp"
#include "job_log.hpp"
#include "json_lines_reporter.hpp"
#include "junit_reporter.hpp"
#include "options.hpp"
#include "pexec/detail/write_all.hpp"
#include "pexec/process_worker.hpp"
#include "text_reporter.hpp"
#include "url_worker_process.hpp"

using namespace pexec::cli;

namespace {

constexpr const char* kUsageHint =
    "usage: pexec [OPTIONS] [COMMAND [ARG...]] [::: ITEM... | :::: FILE...]\n"
    "'pexec --help' lists the options; man pexec tells the rest.\n";

// Jobs' pipes must never land on fds 0-2, so those are always open (on /dev/null if need be).
void ensure_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) ::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
  }
}

/// Opens every input source (so that a missing file fails before any job runs); -X and
/// --xargs spread the list over `slots`.
JobListReader open_job_list(const Options& options, int slots) {
  std::vector<InputSource> sources;
  std::vector<bool> linked;
  for (const SourceOption& source : options.sources) {
    sources.push_back(source.items ? InputSource::from_items(*source.items)
                                   : InputSource::from_file(source.path, options.delimiter));
    linked.push_back(source.linked);
  }
  InputRules rules = options.input;
  rules.spread_over = static_cast<std::size_t>(std::max(1, slots));
  return JobListReader(std::move(sources), std::move(linked), std::move(rules), options.command_template());
}

/// --dry-run: each job's command line (or method and URL), as the engine would make it with
/// jobs filling the slots in turn, leaving out those --resume skips; --shellquote: each job's
/// arguments quoted for the shell.
int print_jobs(JobListReader& reader, const Options& options, int slots, const JobLogHistory* history) {
  CommandTemplate command = options.command_template();
  std::uint64_t seq = 0;
  while (auto args = reader.next_blocking()) {
    ++seq;
    if (history && history->skips(seq, options.resume)) continue;
    int slot = static_cast<int>((seq - 1) % static_cast<std::uint64_t>(slots)) + 1;
    std::string line;
    if (options.shellquote) {
      std::vector<std::string> quoted;
      for (const std::string& arg : *args) quoted.push_back(shell_quote(arg));
      line = join_words(quoted);
    } else {
      line = command.expand(*args, seq, slot, reader.column_names());
      if (std::optional<std::string> url = options.url_in(line))
        line = options.url.method + " " + url_for_display(*url);
    }
    if (!pexec::detail::write_all(STDOUT_FILENO, line + "\n")) return 141;
  }
  return 0;
}

/// The number of jobs the input makes, for the progress line, when every source can be read
/// twice: ::: items, regular files (standard input too, read again from where it was). Never
/// for a pipe or a FIFO: an endless input must not be read to its end.
std::optional<std::size_t> count_jobs(const Options& options, int slots, const JobLogHistory* history) {
  off_t stdin_at = -1;
  for (const SourceOption& source : options.sources) {
    if (source.items) continue;
    struct stat info;
    bool is_stdin = source.path == "-";
    if ((is_stdin ? ::fstat(STDIN_FILENO, &info) : ::stat(source.path.c_str(), &info)) != 0 || !S_ISREG(info.st_mode))
      return std::nullopt;
    if (is_stdin && (stdin_at = ::lseek(STDIN_FILENO, 0, SEEK_CUR)) < 0) return std::nullopt;
  }
  std::size_t count = 0;
  try {
    JobListReader reader = open_job_list(options, slots);
    for (std::uint64_t seq = 1; reader.next_blocking(); ++seq) {
      if (!history || !history->skips(seq, options.resume)) ++count;
    }
  } catch (const InputError&) {
    count = 0;  // the run itself says what is wrong, when it gets there
  }
  if (stdin_at >= 0 && ::lseek(STDIN_FILENO, stdin_at, SEEK_SET) < 0) return std::nullopt;
  return count ? std::optional(count) : std::nullopt;
}

/// --retry-failed: the joblog's commands are the input, one item per sequence number (so that
/// each job keeps its number); the engine skips all but the failed ones.
void take_commands_from(const JobLogHistory& history, Options& options) {
  constexpr std::uint64_t kMostJobs = 50'000'000;  // the list holds an (empty) item per earlier job
  std::vector<std::string> commands;
  for (const auto& [seq, entry] : history.entries()) {
    if (entry.succeeded()) continue;
    if (seq > kMostJobs) {
      throw InputError("--retry-failed: the joblog's job " + std::to_string(seq) +
                       " is beyond the most pexec reruns (" + std::to_string(kMostJobs) + ")");
    }
    commands.resize(seq);
    commands[seq - 1] = entry.command;
  }
  options.sources = {SourceOption{std::move(commands), "", false}};
  options.input = InputRules{};
}

/// The files beside pexec's output: --joblog, --jsonl-file, --junit. Opened before any job
/// runs, so that a file that cannot be written fails the run at once (exit 2).
struct RecordFiles {
  std::vector<std::unique_ptr<Reporter>> reporters;
  std::vector<Record> records;
  std::vector<int> fds;
  RecordFiles() = default;
  RecordFiles(const RecordFiles&) = delete;
  ~RecordFiles() {
    reporters.clear();
    for (int fd : fds) ::close(fd);
  }
  void add(std::string name, std::unique_ptr<Reporter> reporter) {
    records.push_back(Record{std::move(name), reporter.get()});
    reporters.push_back(std::move(reporter));
  }
};

void open_records(const Options& options, RecordFiles& files) {
  if (!options.joblog.empty()) {
    int fd = open_job_log(options.joblog, options.resume != Resume::none);
    files.fds.push_back(fd);
    files.add("--joblog " + options.joblog, std::make_unique<JobLogReporter>(fd));
  }
  if (!options.jsonl_file.empty()) {
    int fd = ::open(options.jsonl_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw InputError("--jsonl-file: cannot write " + options.jsonl_file + ": " + std::strerror(errno));
    files.fds.push_back(fd);
    files.add("--jsonl-file " + options.jsonl_file, std::make_unique<JsonLinesReporter>(fd, options.url.stdout_body));
  }
  if (!options.junit_file.empty()) {
    files.add("--junit " + options.junit_file, std::make_unique<JunitReporter>(options.junit_file, options.timeout));
  }
}

/// How many jobs can run at once with the file descriptors there are. A running job holds
/// about this many in pexec (thread mode: its pipes, pidfd and spill files; process mode: its
/// worker's pipes and an adopted spill file), and pexec itself needs a score.
constexpr rlim_t kFdsPerJob[] = {8, 4};  // by Mode
constexpr rlim_t kFdsForPexec = 24;

/// Raises the soft RLIMIT_NOFILE as far as -j needs (never past the hard limit, and no
/// further: jobs inherit it, and some programs close every possible fd at start); if the fds
/// still cannot carry `workers` jobs, returns fewer, with one warning line.
int fit_workers_to_fd_limit(int workers, Mode mode, bool quiet) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return workers;
  rlim_t per_job = kFdsPerJob[mode == Mode::process ? 1 : 0];
  rlim_t needed = kFdsForPexec + per_job * static_cast<rlim_t>(workers);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= needed) return workers;
  rlim_t room = limit.rlim_cur > kFdsForPexec + per_job ? (limit.rlim_cur - kFdsForPexec) / per_job : 1;
  int fitted = static_cast<int>(std::max<rlim_t>(1, room));
  if (!quiet)
    std::fprintf(stderr, "pexec: -j %d lowered to %d: only %llu file descriptors\n", workers, fitted,
                 static_cast<unsigned long long>(limit.rlim_cur));
  return fitted;
}

}  // namespace

int main(int argc, char** argv) {
  pexec::freeze_support();     // --mode process workers are this same program,
  serve_url_jobs_if_worker();  // and so is the URL worker
  ensure_standard_fds();
  ::signal(SIGPIPE, SIG_IGN);  // a closed stdout is seen as EPIPE and stops the run cleanly

  std::optional<Options> options;
  try {
    options = parse_options(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "pexec: %s\n", e.what());
    // On a terminal a person reads it: the usage, and where the rest is. Scripts get the one line.
    if (::isatty(STDERR_FILENO)) std::fprintf(stderr, "%s", kUsageHint);
    return 2;
  }
  if (!options) return 0;

  try {
    std::optional<JobLogHistory> history;
    if (options->resume != Resume::none) {
      history = JobLogHistory::read(options->joblog, options->resume == Resume::failed_only);
    }
    if (options->resume == Resume::failed_only) take_commands_from(*history, *options);
    int slots = options->jobs.workers(default_workers(options->mode));
    if (options->dry_run || options->shellquote) {  // runs nothing: signals keep their default effect
      int now = options->jobs.current(slots);
      JobListReader reader = open_job_list(*options, now);
      return print_jobs(reader, *options, now, history ? &*history : nullptr);
    }
    // Signals are taken by the engine's loop from a signalfd: blocked here, before any thread
    // starts, so that every thread inherits the mask. The first three stop the run; SIGUSR1
    // lists the running jobs, SIGWINCH redraws the bar.
    sigset_t engine_signals;
    sigemptyset(&engine_signals);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGWINCH}) sigaddset(&engine_signals, s);
    pthread_sigmask(SIG_BLOCK, &engine_signals, nullptr);

    // -S: the hosts are connected to before any job runs; their slots are the run's.
    std::optional<SshConnections> connections;
    RemoteSettings remote;
    if (options->remote()) {
      connections.emplace(options->ssh);
      remote = connections->open(options->sshlogins, slots);
      slots = static_cast<int>(remote.slots.size());
      options->jobs = JobSlots::parse(std::to_string(slots));
    }
    int workers = fit_workers_to_fd_limit(slots, options->mode, options->jobs.asks_for_most());
    JobListReader reader = open_job_list(*options, std::min(workers, options->jobs.current(workers)));
    RecordFiles records;  // before the workers start: a file that cannot be written runs nothing
    open_records(*options, records);
    auto executor = make_job_executor(*options, workers, remote);
    std::unique_ptr<Reporter> reporter;
    if (options->format == OutputFormat::jsonl)
      reporter = std::make_unique<JsonLinesReporter>(STDOUT_FILENO, options->url.stdout_body);
    else
      reporter = std::make_unique<TextReporter>(options->tag, options->timeout, options->colour_on(STDOUT_FILENO),
                                                options->colour_on(STDERR_FILENO), options->url.stdout_body);
    Engine engine(*options, *executor, *reporter, engine_signals, records.records, history ? &*history : nullptr);
    if (options->remote()) engine.use_hosts(remote);
    if (options->progress != ProgressStyle::none && !options->total_jobs) {
      int now = std::min(workers, options->jobs.current(workers));
      if (auto total = count_jobs(*options, now, history ? &*history : nullptr)) engine.expect_jobs(*total);
    }
    return engine.run(reader);
  } catch (const InputError& e) {
    std::fprintf(stderr, "pexec: %s\n", e.what());
    return 2;
  } catch (const NoHostError& e) {  // every host of -S is down: 255, as ssh itself exits
    std::fprintf(stderr, "pexec: %s\n", e.what());
    return 255;
  } catch (const std::runtime_error& e) {  // no directory for ssh's control sockets
    std::fprintf(stderr, "pexec: %s\n", e.what());
    return 2;
  }
}
