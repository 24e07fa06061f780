#include "scheduler.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "pexec/detail/write_all.hpp"
#include "pexec/errors.hpp"

namespace pexec::cli {

Scheduler::Scheduler(const Options& options, JobExecutor& executor, Reporter& reporter)
    : options_(options),
      executor_(executor),
      reporter_(reporter),
      // Enough queued work to keep every worker busy; -k also holds finished results until
      // the earlier ones are reported, so it gets more room. Both bound memory.
      window_(options.keep_order ? 4 * executor.workers() + 16 : 2 * executor.workers() + 2),
      command_template_(options.command_template()) {}

void Scheduler::interrupt(int signal_number) {
  std::lock_guard lock(mutex_);
  if (!signal_) signal_ = signal_number;
  wake_.notify_one();
}

void Scheduler::read_items(JobListReader& reader) {
  try {
    while (std::optional<std::string> item = reader.next()) {
      std::unique_lock lock(mutex_);
      space_.wait(lock, [&] { return ready_.size() < window_ || reader_stopped_; });
      if (reader_stopped_) break;
      ready_.push_back(std::move(*item));
      // The loop waits for items only when it has none: wake it for the first, not for each.
      if (ready_.size() == 1) wake_.notify_one();
    }
  } catch (const InputError& e) {
    std::lock_guard lock(mutex_);
    input_error_ = e.what();
  }
  std::lock_guard lock(mutex_);
  input_done_ = true;
  wake_.notify_one();
}

bool Scheduler::can_submit(std::size_t extra) const {
  if (stop_reason_ != StopReason::none) return false;
  if (options_.keep_order) return next_seq_ + extra - next_to_report_ < window_;
  return in_flight_.size() + extra < window_;
}

int Scheduler::run(JobListReader reader) {
  std::thread reader_thread([&] { read_items(reader); });
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (options_.deadline) {
    deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                      std::chrono::duration<double>(*options_.deadline));
  }

  while (true) {
    std::vector<std::pair<std::uint64_t, Future<JobResult>>> completions;
    std::vector<std::string> items;
    bool input_exhausted = false;
    bool input_failed = false;
    int signal_number = 0;
    {
      std::unique_lock lock(mutex_);
      auto has_news = [&] {
        return !completed_.empty() || (signal_ && stop_reason_ == StopReason::none) ||
               (can_submit(0) && !ready_.empty()) || (input_done_ && ready_.empty() && in_flight_.empty()) ||
               (stop_reason_ != StopReason::none && in_flight_.empty());
      };
      if (deadline && stop_reason_ == StopReason::none)
        wake_.wait_until(lock, *deadline, has_news);
      else
        wake_.wait(lock, has_news);
      completions.swap(completed_);
      signal_number = signal_;
      while (!ready_.empty() && can_submit(items.size())) {
        items.push_back(std::move(ready_.front()));
        ready_.pop_front();
      }
      // The reader refills once half the window is taken, not after every item: one wake-up
      // per half window instead of two thread switches per job.
      if (!items.empty() && ready_.size() <= window_ / 2) space_.notify_one();
      input_exhausted = input_done_ && ready_.empty();
      input_failed = input_error_.has_value();
    }

    for (auto& [seq, future] : completions) collect(seq, future);
    if (signal_number && stop_reason_ == StopReason::none) {
      stop_signal_ = signal_number;
      begin_stop(StopReason::signal);
    }
    if (input_failed && stop_reason_ == StopReason::none) begin_stop(StopReason::input_error);
    if (deadline && stop_reason_ == StopReason::none && std::chrono::steady_clock::now() >= *deadline) {
      begin_stop(StopReason::deadline);
    }
    for (std::string& item : items) submit(std::move(item));
    executor_.flush();
    flush_reports();

    bool finished_reading = input_exhausted || stop_reason_ != StopReason::none;
    if (finished_reading && in_flight_.empty()) {
      std::lock_guard lock(mutex_);
      if (completed_.empty()) break;
    }
  }

  stop_reading();  // the reader thread may still wait for room or input
  reader_thread.join();
  if (stop_reason_ == StopReason::input_error) {
    detail::write_all(STDERR_FILENO, "pexec: " + *input_error_ + "\n");
  }
  if (stop_reason_ == StopReason::deadline) {
    detail::write_all(STDERR_FILENO, "pexec: " + std::to_string(unfinished_) + " (of " + std::to_string(jobs_read_) +
                                         ") jobs unfinished\n");
  }
  return exit_status();
}

void Scheduler::submit(std::string item) {
  JobKind kind = options_.kind_of(item);
  JobSpec spec{next_seq_++, std::move(item), kind, command_template_, options_.timeout, options_.grace, options_.url};
  ++jobs_read_;
  if (stop_reason_ != StopReason::none) {
    report(unstarted_result(spec, JobStatus::cancelled));
    return;
  }
  try {
    Future<JobResult> future = executor_.submit(spec);
    std::uint64_t seq = spec.seq;
    in_flight_.emplace(seq, InFlight{std::move(spec), future});
    future.add_done_callback([this, seq](const Future<JobResult>& done) {
      std::lock_guard lock(mutex_);
      completed_.emplace_back(seq, done);
      // The loop takes all of completed_ at once: only the first of a batch needs to wake it.
      if (completed_.size() == 1) wake_.notify_one();
    });
  } catch (const std::exception& e) {  // a broken pool: this job cannot run
    handle(unstarted_result(spec, JobStatus::error, e.what()));
  }
}

void Scheduler::collect(std::uint64_t seq, const Future<JobResult>& future) {
  auto node = in_flight_.extract(seq);
  const JobSpec& spec = node.mapped().spec;
  if (future.cancelled()) return handle(unstarted_result(spec, JobStatus::cancelled));
  std::exception_ptr error = future.exception();
  if (!error) return handle(future.result());  // by reference: job outputs are not copied
  try {
    std::rethrow_exception(error);
  } catch (const BrokenExecutor& e) {
    // A process worker lost while pexec stops jobs was stopped by pexec; otherwise it died.
    handle(unstarted_result(spec, stop_reason_ != StopReason::none ? JobStatus::killed : JobStatus::error, e.what()));
  } catch (const std::exception& e) {
    handle(unstarted_result(spec, JobStatus::error, e.what()));
  }
}

void Scheduler::handle(const JobResult& result) {
  JobStatus status = result.status;
  bool stopped_by_us = status == JobStatus::cancelled || status == JobStatus::killed;
  if (stopped_by_us) ++unfinished_;
  if (!stopped_by_us && !first_status_) first_status_ = status;
  if (status == JobStatus::failed || status == JobStatus::timeout || status == JobStatus::error) any_failed_ = true;
  report(result);
  if (stop_reason_ != StopReason::none || stopped_by_us) return;
  if (options_.return_when == FIRST_COMPLETED) begin_stop(StopReason::return_when);
  if (options_.return_when == FIRST_EXCEPTION && status != JobStatus::ok) begin_stop(StopReason::return_when);
}

void Scheduler::report(const JobResult& result) {
  if (stop_reason_ == StopReason::output_closed) return;  // nobody reads: stop quietly, like SIGPIPE
  if (!options_.keep_order) {
    reporter_.report(result);
    return;
  }
  reorder_.emplace(result.seq, result);  // held until the earlier jobs are reported
  while (!reorder_.empty() && reorder_.begin()->first == next_to_report_) {
    reporter_.report(reorder_.begin()->second);
    reorder_.erase(reorder_.begin());
    ++next_to_report_;
  }
}

void Scheduler::flush_reports() {
  if (stop_reason_ == StopReason::output_closed) return;
  if (!reporter_.flush()) begin_stop(StopReason::output_closed);
}

void Scheduler::begin_stop(StopReason reason) {
  if (stop_reason_ != StopReason::none) return;
  stop_reason_ = reason;
  executor_.stop(options_.let_running_finish);
  // Items already read are jobs too: submit() reports them as cancelled from now on.
  for (std::string& item : stop_reading()) submit(std::move(item));
}

std::deque<std::string> Scheduler::stop_reading() {
  std::deque<std::string> unread;
  {
    std::lock_guard lock(mutex_);
    reader_stopped_ = true;
    unread.swap(ready_);
    space_.notify_all();
  }
  reader_stop_.raise();
  return unread;
}

int Scheduler::exit_status() const {
  switch (stop_reason_) {
    case StopReason::signal:
      return 128 + stop_signal_;
    case StopReason::deadline:
      return 124;
    case StopReason::input_error:
      return 2;
    case StopReason::output_closed:
      return 141;
    case StopReason::return_when:
      if (options_.return_when == FIRST_COMPLETED) return first_status_ == JobStatus::ok ? 0 : 1;
      return 1;
    case StopReason::none:
      break;
  }
  return any_failed_ ? 1 : 0;
}

}  // namespace pexec::cli
