// pexec: parse the options, build the job source, pick the pool, stream results to a reporter.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <sys/resource.h>
#include <cstdio>

#include <algorithm>

#include "command_template.hpp"
#include "engine.hpp"
#include "job_executor.hpp"
#include "job_list_reader.hpp"
#include "json_lines_reporter.hpp"
#include "options.hpp"
#include "pexec/detail/write_all.hpp"
#include "pexec/process_worker.hpp"
#include "text_reporter.hpp"
#include "url_worker_process.hpp"

using namespace pexec::cli;

namespace {

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
/// jobs filling the slots in turn; --shellquote: each job's arguments quoted for the shell.
int print_jobs(JobListReader& reader, const Options& options, int slots) {
  CommandTemplate command = options.command_template();
  std::uint64_t seq = 0;
  while (auto args = reader.next_blocking()) {
    ++seq;
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
    return 2;
  }
  if (!options) return 0;

  try {
    int slots = options->jobs.workers(default_workers(options->mode));
    if (options->dry_run || options->shellquote) {  // runs nothing: signals keep their default effect
      int now = options->jobs.current(slots);
      JobListReader reader = open_job_list(*options, now);
      return print_jobs(reader, *options, now);
    }
    // Signals are taken by the engine's loop from a signalfd: blocked here, before any thread
    // starts, so that every thread inherits the mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, s);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    int workers = fit_workers_to_fd_limit(slots, options->mode, options->jobs.asks_for_most());
    JobListReader reader = open_job_list(*options, std::min(workers, options->jobs.current(workers)));
    auto executor = make_job_executor(*options, workers);
    std::unique_ptr<Reporter> reporter;
    if (options->format == OutputFormat::jsonl)
      reporter = std::make_unique<JsonLinesReporter>();
    else
      reporter = std::make_unique<TextReporter>(options->tag, options->timeout);
    Engine engine(*options, *executor, *reporter, stop_signals);
    return engine.run(reader);
  } catch (const InputError& e) {
    std::fprintf(stderr, "pexec: %s\n", e.what());
    return 2;
  }
}
