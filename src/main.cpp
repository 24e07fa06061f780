// pexec: parse the options, build the job source, pick the pool, stream results to a reporter.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "command_template.hpp"
#include "job_executor.hpp"
#include "job_list_reader.hpp"
#include "json_lines_reporter.hpp"
#include "options.hpp"
#include "pexec/detail/write_all.hpp"
#include "pexec/process_worker.hpp"
#include "scheduler.hpp"
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

JobListReader open_job_list(const Options& options, int stop_fd) {
  if (options.items) return JobListReader::from_items(*options.items);
  std::vector<std::string> files = options.arg_files.empty() ? std::vector<std::string>{"-"} : options.arg_files;
  return JobListReader::from_files(files, options.null_separated ? '\0' : '\n', stop_fd);
}

int print_dry_run(JobListReader& reader, const Options& options) {
  int workers = options.jobs.value_or(default_workers(options.mode));
  std::string command_template = options.command_template();
  std::uint64_t seq = 0;
  while (auto item = reader.next()) {
    ++seq;
    int slot = static_cast<int>((seq - 1) % static_cast<std::uint64_t>(workers)) + 1;
    std::string line = options.kind_of(*item) == JobKind::url ? options.url.method + " " + *item
                                                              : expand_command(command_template, *item, seq, slot);
    if (!pexec::detail::write_all(STDOUT_FILENO, line + "\n")) return 141;
  }
  return 0;
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

  // Signals are handled in one place: blocked in every thread, taken by one waiting thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, s);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  StopSignal never;  // dry runs and unreadable input never stop reading early
  try {
    if (options->dry_run) {
      JobListReader reader = open_job_list(*options, never.fd());
      return print_dry_run(reader, *options);
    }
    JobListReader reader = open_job_list(*options, -1);
    auto executor = make_job_executor(*options);
    std::unique_ptr<Reporter> reporter;
    if (options->format == OutputFormat::jsonl)
      reporter = std::make_unique<JsonLinesReporter>();
    else
      reporter = std::make_unique<TextReporter>(options->tag, options->timeout);
    Scheduler scheduler(*options, *executor, *reporter);
    std::thread([&scheduler, stop_signals] {
      int signal_number = 0;
      if (sigwait(&stop_signals, &signal_number) == 0) scheduler.interrupt(signal_number);
    }).detach();
    return scheduler.run(std::move(reader));
  } catch (const InputError& e) {
    std::fprintf(stderr, "pexec: %s\n", e.what());
    return 2;
  }
}
