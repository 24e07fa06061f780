#include "engine.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>
#include <thread>

#include "pexec/errors.hpp"
#include "shared_output.hpp"

namespace pexec::cli {

namespace {

using Clock = std::chrono::steady_clock;

/// The level one step above `level`.
StopLevel next_level(StopLevel level) {
  return level == StopLevel::killing ? level : static_cast<StopLevel>(static_cast<int>(level) + 1);
}

bool is_failure(JobStatus status) {
  return status == JobStatus::failed || status == JobStatus::timeout || status == JobStatus::error;
}

/// Whether stdout is the terminal stderr is (writes to it must keep clear of the bar).
bool stdout_is_stderr_terminal() {
  struct stat out, err;
  return ::isatty(STDOUT_FILENO) && ::fstat(STDOUT_FILENO, &out) == 0 && ::fstat(STDERR_FILENO, &err) == 0 &&
         out.st_rdev == err.st_rdev;
}

/// A template for text that is no command line (--tagstring, file names): values as they are.
CommandTemplate make_text_template(const Options& options, const std::string& text) {
  if (text.empty()) return CommandTemplate();
  CommandTemplate::Settings settings = options.template_settings;
  settings.plain_text = true;
  settings.context_replace = false;
  settings.quote_words = false;
  return CommandTemplate({text}, settings);
}

std::vector<CommandTemplate> make_text_templates(const Options& options, const std::vector<std::string>& texts) {
  std::vector<CommandTemplate> templates;
  for (const std::string& text : texts) templates.push_back(make_text_template(options, text));
  return templates;
}

}  // namespace

Engine::Engine(const Options& options, JobExecutor& executor, Reporter& reporter, const sigset_t& signals,
               std::vector<Record> records, const JobLogHistory* history)
    : options_(options),
      executor_(executor),
      reporter_(reporter),
      records_(std::move(records)),
      history_(history),
      command_template_(options.command_template()),
      tag_template_(make_text_template(options, options.tagstring)),
      transfer_templates_(make_text_templates(options, options.transfer_files)),
      return_templates_(make_text_templates(options, options.return_files)),
      data_template_(make_text_template(options, options.url.data.value_or(""))),
      data_file_template_(make_text_template(options, options.url.data_file)),
      output_template_(make_text_template(options, options.url.output)),
      header_templates_(
          make_text_templates(options, options.url.per_job_headers ? options.url.headers : std::vector<std::string>{})),
      workers_(static_cast<std::size_t>(std::max(1, executor.workers()))),
      slots_(std::min(workers_, static_cast<std::size_t>(options.jobs.current(executor.workers())))),
      // -k holds finished results until the earlier ones are reported: this bounds how many.
      keep_order_window_(4 * workers_ + 16),
      free_slots_(workers_),
      progress_in_place_(::isatty(STDERR_FILENO)),
      show_progress_(options.progress != ProgressStyle::none && (progress_in_place_ || options.force_progress)),
      expected_jobs_(options.total_jobs) {
  if (show_progress_ && progress_in_place_) SharedOutput::get().use_terminal(stdout_is_stderr_terminal());
  signal_fd_ = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  loop_thread_ = std::this_thread::get_id();
  completion_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (completion_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

Engine::~Engine() {
  ::close(signal_fd_);
  ::close(completion_fd_);
}

int Engine::run(JobListReader& reader) {
  while (advance(reader)) wait_for_events(reader);
  return finish();
}

bool Engine::advance(JobListReader& reader) {
  if (!started_) {
    started_ = true;
    started_at_ = Clock::now();
    next_draw_ = started_at_ + (progress_in_place_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000));
    if (options_.deadline) deadline_ = steady_after(*options_.deadline);
  }
  start_jobs(reader);
  if (level_ >= StopLevel::draining) {
    cancel_held_items(reader);
    give_up_retries();
  }
  executor_.flush();
  flush_reports();
  return !((input_ended_ || level_ >= StopLevel::draining) && in_flight_.empty() && retries_.empty());
}

int Engine::finish() {
  flush_reports();
  for (const Record& record : records_) {
    if (int error = record.reporter->close(); error && record_error_.empty()) {
      record_error_ = record.name + ": " + std::strerror(error);
      stop_reason_ = std::max(stop_reason_, StopReason::output_error);
    }
  }
  if (show_progress_) {
    if (progress_in_place_)
      SharedOutput::get().clear_bar();
    else
      draw_progress();  // the last line says where the run ended
  }
  if (input_error_) message("pexec: " + *input_error_ + "\n");
  if (stop_reason_ == StopReason::output_error) {
    message(!record_error_.empty()
                ? "pexec: cannot write " + record_error_ + "\n"
                : std::string("pexec: write error on standard output: ") + std::strerror(output_errno_) + "\n");
  }
  if (stop_reason_ == StopReason::deadline) {
    message("pexec: " + std::to_string(unfinished_) + " (of " + std::to_string(jobs_read_) + ") jobs unfinished\n");
  }
  if (options_.summary.value_or(::isatty(STDERR_FILENO))) {
    tally_.jobs = jobs_read_;
    message(summary_line(tally_, std::chrono::duration<double>(Clock::now() - started_at_).count(),
                         options_.colour_on(STDERR_FILENO)));
  } else if (counts_.failed > 0) {
    message("pexec: " + std::to_string(counts_.failed) + " of " + std::to_string(jobs_read_) +
            (jobs_read_ == 1 ? " job failed\n" : " jobs failed\n"));
  }
  return exit_status();
}

void Engine::start_jobs(JobListReader& reader) {
  input_wanted_ = false;
  start_delayed_ = false;
  if (level_ != StopLevel::running) return;
  start_due_retries(reader);
  while (!input_ended_ && may_start()) {
    if (options_.keep_order && next_seq_ - next_to_report_ >= keep_order_window_) break;
    // --onall: no more read while two jobs per host already wait for their hosts.
    if (options_.every_host && retries_.size() >= 2 * static_cast<std::size_t>(free_slots_.hosts())) break;
    std::optional<JobArgs> args;
    try {
      args = reader.next();
    } catch (const InputError& e) {
      take_input_error(e);
      break;
    }
    if (!args) {
      if (reader.at_end())
        input_ended_ = true;
      else
        input_wanted_ = true;
      break;
    }
    take(*args, reader);
    if (options_.every_host) start_due_retries(reader);
  }
}

bool Engine::may_start() {
  if (level_ != StopLevel::running || in_flight_.size() >= slots_) return false;
  if (next_start_ && Clock::now() < *next_start_) {
    start_delayed_ = true;
    return false;
  }
  return true;
}

JobSpec Engine::make_job(const JobArgs& args, std::uint64_t seq, int attempt, const JobListReader& reader, int slot) {
  JobSpec spec;
  spec.seq = seq;
  spec.slot = slot;
  spec.attempt = attempt;
  spec.input = join_words(args);
  if (std::optional<std::string> url = options_.url_in(spec.input)) {
    spec.kind = JobKind::url;
    spec.input = std::move(*url);
    // Replacement strings stand for the URL ({} {/} ...), {#} and {%}, as in --tagstring.
    const std::vector<std::string> url_args{spec.input};
    auto expand = [&](const CommandTemplate& text) {
      return text.empty() ? std::string() : text.expand(url_args, spec.seq, slot);
    };
    spec.url.data = expand(data_template_);
    spec.url.data_file = expand(data_file_template_);
    spec.url.output = expand(output_template_);
    for (const CommandTemplate& header : header_templates_) spec.url.headers.push_back(expand(header));
  } else {
    spec.command = command_template_.expand(args, spec.seq, slot, reader.column_names());
  }
  if (!tag_template_.empty()) spec.tag = tag_template_.expand(args, spec.seq, slot, reader.column_names());
  // --onall, --nonall: --tag names the host (as GNU parallel does).
  if (options_.every_host && options_.tag && tag_template_.empty() && slot > 0)
    spec.tag = host_names_[static_cast<std::size_t>(free_slots_.host_of(slot))];
  for (const CommandTemplate& file : transfer_templates_)
    spec.transfer.push_back(file.expand(args, spec.seq, slot, reader.column_names()));
  for (const CommandTemplate& file : return_templates_)
    spec.returns.push_back(file.expand(args, spec.seq, slot, reader.column_names()));
  return spec;
}

void Engine::take(const JobArgs& args, const JobListReader& reader) {
  // --onall: the job for each host in turn (consecutive seqs), each one pinned to its host.
  int copies = options_.every_host ? free_slots_.hosts() : 1;
  for (int host = 0; host < copies; ++host) {
    std::uint64_t seq = next_seq_++;
    if (history_ && history_->skips(seq, options_.resume)) {
      if (options_.keep_order) report(seq, std::nullopt);
      continue;
    }
    ++jobs_read_;
    if (level_ != StopLevel::running) {
      handle(unstarted_result(make_job(args, seq, 1, reader, 0), JobStatus::cancelled));
      continue;
    }
    if (options_.every_host) {  // waits with the retries, which wait for a slot on some host too
      JobResult waiting = unstarted_result(make_job(args, seq, 1, reader, 0), JobStatus::cancelled);
      waiting.attempts = 0;  // its next attempt is its first
      retries_.emplace(Clock::now(), Retry{args, std::move(waiting), {}, {}, false, host});
      continue;
    }
    // The lowest slot free ({%}); one is, since no more jobs run than there are usable slots.
    int slot = *free_slots_.take();
    submit(make_job(args, seq, 1, reader, slot), options_.retries > 1 || !host_names_.empty() ? args : JobArgs{});
  }
}

void Engine::use_hosts(const RemoteSettings& remote) {
  std::vector<int> host_of_slot;
  for (std::size_t slot = 1; slot <= workers_ && slot <= remote.slots.size(); ++slot)
    host_of_slot.push_back(remote.slots[slot - 1].host);
  if (host_of_slot.empty()) return;
  free_slots_ = HostSlots(std::move(host_of_slot));
  slots_ = std::min(slots_, free_slots_.usable());
  host_names_.clear();
  for (const RemoteHost& host : remote.hosts) host_names_.push_back(host.login);
}

void Engine::submit(JobSpec spec, JobArgs args, std::set<int> failed_on, std::optional<int> pinned_host) {
  if (options_.delay) next_start_ = steady_after(*options_.delay);
  int slot = spec.slot;
  try {
    Future<JobResult> future = executor_.submit(spec);
    std::uint64_t seq = spec.seq;
    InFlight& job = in_flight_
                        .emplace(seq, InFlight{std::move(spec), std::move(args), std::move(failed_on), pinned_host,
                                               future, Clock::now()})
                        .first->second;
    // Submitted to a free worker, the job starts now: the margin covers the report's way back.
    if (options_.timeout) job.overdue_at = steady_after(*options_.timeout + options_.grace + 2.0);
    future.add_done_callback([this, seq](const Future<JobResult>&) {
      std::lock_guard lock(mutex_);
      completed_.push_back(seq);
      // The loop takes all of completed_ at once: only the first of a batch needs to wake it,
      // and the loop's own thread (a URL worker's results it read, a job it cancelled) need
      // not: wait_for_events() looks at completed_ before it waits.
      if (completed_.size() == 1 && std::this_thread::get_id() != loop_thread_) {
        std::uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(completion_fd_, &one, sizeof one);
      }
    });
  } catch (const std::exception& e) {  // a broken pool, no thread to be had: this job cannot run
    free_slots_.give_back(slot);
    handle(unstarted_result(spec, JobStatus::error, e.what()));
  }
}

bool Engine::retry_later(InFlight& job, JobResult& result) {
  if (!is_failure(result.status) || !result.retryable || result.attempts >= options_.retries) return false;
  if (level_ != StopLevel::running) return false;
  // --retry-delay before the 2nd run, doubling for each later one (at most a minute, unless
  // --retry-delay asks for more); a server's Retry-After wins.
  double wait = options_.retry_delay * std::pow(2.0, result.attempts - 1);
  wait = std::min(wait, std::max(60.0, options_.retry_delay));
  if (result.retry_after) wait = std::min(*result.retry_after, std::max(60.0, options_.retry_delay));
  for (const Record& record : records_) record.reporter->report_retried(result);
  std::set<int> failed_on = job.failed_on;
  if (!host_names_.empty()) failed_on.insert(free_slots_.host_of(job.spec.slot));
  retries_.emplace(steady_after(wait),
                   Retry{std::move(job.args), std::move(result), failed_on, failed_on, false, job.pinned_host});
  return true;
}

bool Engine::requeue(InFlight& job, JobResult& result) {
  if (level_ != StopLevel::running) return false;
  int host = free_slots_.host_of(job.spec.slot);
  if (free_slots_.transport_failed(job.spec.slot)) {
    message("pexec: warning: " + host_names_[static_cast<std::size_t>(host)] +
            " dropped after 3 ssh failures in a row: " + result.error + "\n");
    slots_ = std::min(slots_, free_slots_.usable());
    if (free_slots_.all_hosts_dropped()) {
      begin_stop(StopReason::no_host, StopLevel::terminating);
      return false;
    }
  }
  // Not an attempt of the job's own: it runs again at once, elsewhere if it can.
  std::set<int> avoid = job.failed_on;
  avoid.insert(host);
  retries_.emplace(Clock::now(),
                   Retry{std::move(job.args), std::move(result), std::move(avoid), job.failed_on, true, {}});
  return true;
}

void Engine::start_due_retries(const JobListReader& reader) {
  auto now = Clock::now();
  for (auto due = retries_.begin(); due != retries_.end() && due->first <= now && may_start();) {
    // -S: a job that failed waits for a slot on a host where it has not failed, if one is alive.
    std::optional<int> slot =
        due->second.pinned_host ? free_slots_.take_on(*due->second.pinned_host) : free_slots_.take(due->second.avoid);
    if (!slot) {
      ++due;
      continue;
    }
    Retry retry = std::move(due->second);
    due = retries_.erase(due);
    int attempt = retry.requeued ? retry.last.attempts : retry.last.attempts + 1;
    JobSpec spec = make_job(retry.args, retry.last.seq, attempt, reader, *slot);
    submit(std::move(spec), std::move(retry.args), std::move(retry.failed_on), retry.pinned_host);
  }
}

void Engine::give_up_retries() {
  while (!retries_.empty()) {
    JobResult last = std::move(retries_.begin()->second.last);
    retries_.erase(retries_.begin());
    handle(std::move(last));
  }
}

void Engine::cancel_held_items(JobListReader& reader) {
  // Only what is already in memory: nothing more is read once the run stops.
  reader.stop_reading();
  try {
    while (std::optional<JobArgs> args = reader.next()) take(*args, reader);
  } catch (const InputError& e) {
    take_input_error(e);
  }
}

void Engine::take_input_error(const InputError& e) {
  if (!input_error_) input_error_ = e.what();
  input_ended_ = true;
  begin_stop(StopReason::input_error, options_.let_running_finish ? StopLevel::draining : StopLevel::terminating);
}

std::optional<Clock::time_point> Engine::next_timer() const {
  std::optional<Clock::time_point> next;
  if (deadline_ && stop_reason_ < StopReason::deadline) next = deadline_;
  auto sooner = [&](Clock::time_point at) { next = next ? std::min(*next, at) : at; };
  if (level_ == StopLevel::running) {
    if (start_delayed_ && next_start_) sooner(*next_start_);
    // A retry waits for its time, and for a free slot (then a completion wakes the loop).
    // -S: one that waits for a slot on another host is woken by a completion too.
    if (in_flight_.size() < slots_) {
      for (const auto& [due, retry] : retries_) {
        if (retry.pinned_host ? !free_slots_.has_on(*retry.pinned_host) : !free_slots_.has_for(retry.avoid)) continue;
        sooner(std::max(due, next_start_.value_or(Clock::time_point::min())));
        break;
      }
    }
  }
  if (show_progress_) next = next ? std::min(*next, next_draw_) : next_draw_;
  if (std::optional<Clock::time_point> flush = executor_.next_flush()) sooner(*flush);
  for (const auto& [seq, job] : in_flight_) {
    if (!job.overdue && job.overdue_at != Clock::time_point::max())
      next = next ? std::min(*next, job.overdue_at) : job.overdue_at;
  }
  if (level_ == StopLevel::terminating) {
    // Jobs get SIGKILL at --grace; whatever still runs a second later (a process worker that
    // does not answer) is killed from here.
    Clock::time_point escalate = steady_after(options_.grace + 1.0, level_since_);
    next = next ? std::min(*next, escalate) : escalate;
  }
  return next;
}

void Engine::wait_for_events(JobListReader& reader) {
  // Jobs completed on this thread (results the loop read, jobs it cancelled) wrote no eventfd:
  // with them waiting, the ppoll only looks, and does not wait.
  bool completed;
  {
    std::lock_guard lock(mutex_);
    completed = !completed_.empty();
  }
  // The signalfd, the completion queue's eventfd, the job list when the loop wants more of it,
  // and the fds through which workers report to this loop (URL worker processes).
  bool input = input_wanted_ && level_ == StopLevel::running && reader.fd() >= 0;
  watched_fds_.clear();
  executor_.add_watched_fds(watched_fds_);
  poll_fds_.assign({{signal_fd_, POLLIN, 0}, {completion_fd_, POLLIN, 0}, {input ? reader.fd() : -1, POLLIN, 0}});
  for (int fd : watched_fds_) poll_fds_.push_back({fd, POLLIN, 0});
  timespec timeout{};
  timespec* timeout_pointer = nullptr;
  if (std::optional<Clock::time_point> timer = next_timer(); timer && *timer != Clock::time_point::max()) {
    auto left = std::max(Clock::duration::zero(), *timer - Clock::now());
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
    timeout.tv_sec = static_cast<time_t>(seconds.count());
    timeout.tv_nsec = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(left - seconds).count());
    timeout_pointer = &timeout;
  }
  if (completed) {
    timeout = {};
    timeout_pointer = &timeout;
  }
  if (::ppoll(poll_fds_.data(), poll_fds_.size(), timeout_pointer, nullptr) < 0 && errno != EINTR) {
    throw std::system_error(errno, std::generic_category(), "ppoll");
  }

  if (poll_fds_[0].revents) take_signals();
  bool reported = false;  // a worker's results, completed on this thread: the queue has them now
  for (std::size_t i = 3; i < poll_fds_.size(); ++i) {
    if (poll_fds_[i].revents) {
      executor_.take_readable(poll_fds_[i].fd);
      reported = true;
    }
  }
  if (poll_fds_[1].revents || reported || completed) take_completions(poll_fds_[1].revents != 0);
  if (input && poll_fds_[2].revents) {
    try {
      reader.fill();
    } catch (const InputError& e) {
      take_input_error(e);
    }
  }
  auto now = Clock::now();
  if (deadline_ && stop_reason_ < StopReason::deadline && now >= *deadline_) {
    begin_stop(StopReason::deadline, StopLevel::terminating);  // a drain does not outlast it
  }
  if (options_.timeout) take_overdue_jobs(now);
  if (level_ == StopLevel::terminating && now >= steady_after(options_.grace + 1.0, level_since_)) {
    raise_level(StopLevel::killing);
  }
  if (show_progress_ && now >= next_draw_) draw_progress();
}

std::string Engine::progress_text() const {
  ProgressCounts counts;
  counts.running = in_flight_.size();
  counts.done = counts_.done + unfinished_;
  counts.failed = counts_.failed;
  counts.read = jobs_read_;
  counts.total = expected_jobs_;
  counts.input_ended = input_ended_;
  counts.elapsed_s = std::chrono::duration<double>(Clock::now() - started_at_).count();
  winsize size{};
  int width = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
  return progress_line(options_.progress, counts, width, options_.colour_on(STDERR_FILENO));
}

void Engine::draw_progress() {
  SharedOutput::get().draw_bar(progress_text());
  // In place, often enough to look alive; into a pipe or a file, a line a second.
  next_draw_ = Clock::now() + (progress_in_place_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000));
}

void Engine::list_running_jobs() {
  auto now = Clock::now();
  std::string text = "pexec: " + std::to_string(in_flight_.size()) + " running, " +
                     std::to_string(counts_.done + unfinished_) + " done, " + std::to_string(counts_.failed) +
                     " failed\n";
  for (const auto& [seq, job] : in_flight_) {
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.1fs", std::chrono::duration<double>(now - job.started).count());
    const std::string& what = job.spec.command.empty() ? job.spec.input : job.spec.command;
    text += "pexec:   job " + std::to_string(seq) + ", " + elapsed + ": " + what + "\n";
  }
  message(text);
}

void Engine::message(const std::string& text) { SharedOutput::get().write(STDERR_FILENO, text); }

void Engine::take_overdue_jobs(Clock::time_point now) {
  bool any = false;
  for (auto& [seq, job] : in_flight_) {
    if (job.overdue || now < job.overdue_at) continue;
    job.overdue = true;
    any = true;
  }
  if (any) executor_.kill_unresponsive_workers();
}

void Engine::take_signals() {
  signalfd_siginfo info;
  while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (info.ssi_signo == SIGUSR1) {
      list_running_jobs();
      continue;
    }
    if (info.ssi_signo == SIGWINCH) {  // the terminal's new width, at once
      if (show_progress_) draw_progress();
      continue;
    }
    if (!first_signal_) first_signal_ = static_cast<int>(info.ssi_signo);
    // The first signal stops the run as --let-running-finish says; every further one goes a
    // level higher (a second Ctrl-C stops a drain; a third kills at once).
    StopLevel level = level_ == StopLevel::running
                          ? (options_.let_running_finish ? StopLevel::draining : StopLevel::terminating)
                          : next_level(level_);
    begin_stop(StopReason::signal, level);
  }
}

void Engine::take_completions(bool woken) {
  if (woken) {  // resets the eventfd
    std::uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(completion_fd_, &count, sizeof count);
  }
  std::vector<std::uint64_t> seqs;
  {
    std::lock_guard lock(mutex_);
    seqs.swap(completed_);
  }
  for (std::uint64_t seq : seqs) collect(seq);
  // -j FILE: the file is read again whenever jobs finish, so that a run can be sped up or
  // slowed down while it goes.
  if (options_.jobs.from_file() && !seqs.empty()) {
    slots_ = std::min(workers_, static_cast<std::size_t>(options_.jobs.current(static_cast<int>(slots_))));
  }
}

void Engine::collect(std::uint64_t seq) {
  auto node = in_flight_.extract(seq);
  const JobSpec& spec = node.mapped().spec;
  free_slots_.give_back(spec.slot);
  const Future<JobResult>& future = node.mapped().future;
  if (future.cancelled()) return handle(unstarted_result(spec, JobStatus::cancelled));
  std::exception_ptr error = future.exception();
  if (!error) {
    JobResult result = future.result();  // a copy; a spilled output's file is shared
    result.attempts = spec.attempt;
    if (!host_names_.empty()) {
      // A job pinned to its host (--onall) cannot go elsewhere: ssh's failure is its result.
      if (result.transport_failure && !node.mapped().pinned_host && requeue(node.mapped(), result)) return;
      if (!result.transport_failure) free_slots_.transport_worked(spec.slot);
    }
    if (retry_later(node.mapped(), result)) return;
    return handle(std::move(result));
  }
  // pexec killed the worker that let this job overrun its timeout: the job timed out.
  if (node.mapped().overdue) return handle(unstarted_result(spec, JobStatus::timeout, "its worker did not answer"));
  try {
    std::rethrow_exception(error);
  } catch (const BrokenExecutor& e) {
    // A process worker lost while pexec stops jobs was stopped by pexec; otherwise it died.
    handle(unstarted_result(spec, level_ >= StopLevel::terminating ? JobStatus::killed : JobStatus::error, e.what()));
  } catch (const std::exception& e) {
    handle(unstarted_result(spec, JobStatus::error, e.what()));
  }
}

void Engine::handle(JobResult result) {
  if (int error = result.live_write_errno) {  // a job could not write its output as it came
    if (error == EPIPE) {
      begin_stop(StopReason::output_closed, StopLevel::terminating);
    } else if (!output_errno_) {
      output_errno_ = error;
      begin_stop(StopReason::output_error, StopLevel::terminating);
    }
  }
  if (result.status == JobStatus::killed && level_ < StopLevel::terminating) {
    // pexec did not stop it: someone else signalled the job or its process worker.
    result.status = JobStatus::failed;
    if (result.error.empty()) result.error = "stopped by a signal pexec did not send";
  }
  JobStatus status = result.status;
  tally_.count(status, result.seq);
  bool stopped_by_us = status == JobStatus::cancelled || status == JobStatus::killed;
  if (stopped_by_us) {
    ++unfinished_;
  } else {
    ++counts_.done;
    if (status == JobStatus::ok) ++counts_.succeeded;
    if (is_failure(status)) ++counts_.failed;
  }
  bool halts = level_ == StopLevel::running && !stopped_by_us && options_.halt.tripped(counts_);
  if (halts) {
    JobResult trigger;  // only what the exit status needs
    trigger.status = status;
    trigger.exit_code = result.exit_code;
    trigger.signal = result.signal;
    halt_trigger_ = std::move(trigger);
  }
  std::uint64_t seq = result.seq;
  report(seq, std::move(result));
  if (halts) {
    begin_stop(StopReason::halt, options_.halt.when == Halt::When::now ? StopLevel::terminating : StopLevel::draining);
  }
}

void Engine::report(std::uint64_t seq, std::optional<JobResult> result) {
  auto deliver = [&](const JobResult& r) {
    // Nobody reads, or nothing can be written: stop quietly, like SIGPIPE. A job whose output
    // was not shown is not recorded either (--resume runs it again).
    if (stop_reason_ == StopReason::output_closed || output_errno_) return;
    reported_since_flush_ = true;
    reporter_.report(r);
    for (const Record& record : records_) record.reporter->report(r);
  };
  if (!options_.keep_order) {
    if (result) deliver(*result);
    return;
  }
  reorder_.emplace(seq, std::move(result));  // held until the earlier jobs are reported
  while (!reorder_.empty() && reorder_.begin()->first == next_to_report_) {
    if (reorder_.begin()->second) deliver(*reorder_.begin()->second);
    reorder_.erase(reorder_.begin());
    ++next_to_report_;
  }
}

void Engine::flush_reports() {
  if (stop_reason_ == StopReason::output_closed || output_errno_) return;
  // The bar drawn again below these reports counts them already.
  if (reported_since_flush_ && show_progress_ && progress_in_place_) SharedOutput::get().set_bar(progress_text());
  reported_since_flush_ = false;
  int error = reporter_.flush();
  // -k with live output: the oldest job not yet reported may write now (all before it are out).
  if (!error && options_.keep_order && options_.output != OutputMode::group) {
    SharedOutput::get().set_live_seq(next_to_report_);
  }
  if (error == EPIPE) {
    begin_stop(StopReason::output_closed, StopLevel::terminating);
  } else if (error) {
    output_errno_ = error;
    begin_stop(StopReason::output_error, StopLevel::terminating);
  }
  // After the output: a job the joblog records has been shown (--resume skips it).
  for (const Record& record : records_) {
    if (int failed = record.reporter->flush(); failed && !output_errno_) {
      output_errno_ = failed;
      record_error_ = record.name + ": " + std::strerror(failed);
      begin_stop(StopReason::output_error, StopLevel::terminating);
    }
  }
}

void Engine::begin_stop(StopReason reason, StopLevel level) {
  stop_reason_ = std::max(stop_reason_, reason);
  raise_level(level);
}

void Engine::raise_level(StopLevel level) {
  if (level <= level_) return;
  level_ = level;
  level_since_ = Clock::now();
  executor_.stop(level);
}

int Engine::exit_status() const {
  if (first_signal_) return 128 + first_signal_;
  switch (stop_reason_) {
    case StopReason::signal:
    case StopReason::deadline:
      return 124;
    case StopReason::output_error:
      return kExitWriteError;
    case StopReason::output_closed:
      return 141;
    case StopReason::input_error:
      return 2;
    case StopReason::no_host:
      return 255;  // as ssh exits when it cannot connect
    case StopReason::halt:
      return options_.halt.exit_status(*halt_trigger_, counts_.failed > 0);
    case StopReason::none:
      break;
  }
  return counts_.failed > 0 ? 1 : 0;
}

}  // namespace pexec::cli
