#pragma once
/// Scheduler: pexec's one loop. It feeds items from the job list (read by its own thread, a
/// bounded window ahead) to a JobExecutor, reports each job as it finishes (as_completed) or in
/// input order (-k, like map with a buffersize), and decides when to stop: input exhausted,
/// --return-when satisfied, --deadline passed, or a signal to pexec. Stopping cancels the jobs
/// not started and stops the running ones, and every job read is still reported exactly once.
///
/// Completions arrive through the futures' done-callbacks, new items from the reader thread and
/// signals from interrupt(); all three wake the same condition variable, so the loop never
/// waits on one source while another has news.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "job_executor.hpp"
#include "job_list_reader.hpp"
#include "options.hpp"
#include "reporter.hpp"
#include "stop_signal.hpp"

namespace pexec::cli {

class Scheduler {
 public:
  Scheduler(const Options& options, JobExecutor& executor, Reporter& reporter);

  /// Runs every job of `reader` and returns pexec's exit status (see pexec(1), EXIT STATUS).
  int run(JobListReader reader);

  /// Asks the loop to stop as for SIGINT/SIGTERM; safe from any thread.
  void interrupt(int signal_number);

 private:
  /// Why the run ended early.
  enum class StopReason { none, return_when, deadline, signal, input_error, output_closed };

  struct InFlight {
    JobSpec spec;
    Future<JobResult> future;
  };

  void read_items(JobListReader& reader);
  bool can_submit(std::size_t extra) const;
  void submit(std::string item);
  void collect(std::uint64_t seq, const Future<JobResult>& future);
  void handle(const JobResult& result);
  void report(const JobResult& result);
  /// Writes the reports of this turn of the loop; a closed stdout stops the run.
  void flush_reports();
  void begin_stop(StopReason reason);
  /// Ends the reader thread's work; returns the items it read that were not taken yet.
  std::deque<std::string> stop_reading();
  int exit_status() const;

  const Options& options_;
  JobExecutor& executor_;
  Reporter& reporter_;
  const std::size_t window_;
  const std::string command_template_;

  // Shared with the reader thread, the done-callbacks and interrupt(): guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;   // something for the loop to do
  std::condition_variable space_;  // room in ready_ for the reader
  std::deque<std::string> ready_;
  bool input_done_ = false;
  bool reader_stopped_ = false;
  std::optional<std::string> input_error_;
  std::vector<std::pair<std::uint64_t, Future<JobResult>>> completed_;
  int signal_ = 0;
  StopSignal reader_stop_;

  // The loop's own state.
  std::uint64_t next_seq_ = 1;
  std::map<std::uint64_t, InFlight> in_flight_;
  std::map<std::uint64_t, JobResult> reorder_;  // -k: reported once all earlier ones are
  std::uint64_t next_to_report_ = 1;
  StopReason stop_reason_ = StopReason::none;
  int stop_signal_ = 0;
  std::optional<JobStatus> first_status_;  // of the first job to finish
  bool any_failed_ = false;
  std::size_t jobs_read_ = 0;
  std::size_t unfinished_ = 0;  // cancelled or killed
};

}  // namespace pexec::cli
