#pragma once
/// Engine: pexec's one loop. It owns the run's state (ninja's rule); everything around it is
/// passive and only tells it that something happened:
/// - the job list (JobListReader) is read only when its fd is readable,
/// - signals arrive on a signalfd,
/// - finished jobs are pushed by the futures' done-callbacks into one completion queue, which
///   wakes the loop through an eventfd,
/// - a worker that reports to the loop itself (a URL worker process) has its fd in the same
///   ppoll: the loop reads it (JobExecutor::take_readable) and so completes those futures on its
///   own thread, one wakeup per batch of results instead of two,
/// - the deadline and the stop escalation are the timeout of its one ppoll().
/// Only the loop decides what starts: a job is submitted only when a worker is free for it, and
/// only while the stop level is `running`, so no job can start after the run decided to stop.
/// It also makes each job's command line, in the lowest free job slot ({%}), skips the jobs an
/// earlier run's joblog says are done (--resume), spaces starts (--delay), and runs a failed
/// job again after its retry delay (--retries), reporting only its last attempt.
///
/// Stopping is one StopLevel that only goes up: a tripped --halt drains (soon) or terminates
/// (now); the deadline terminates; a signal terminates (drains with --let-running-finish), and
/// each further signal raises the level by one; a run still terminating --grace + 1 s after it
/// began is raised to killing. Every job read is reported exactly once: items pexec holds but
/// has not started are reported `cancelled`, a job waiting for its next attempt by its last one.
///
/// What the user watches is drawn from the loop too: the progress line (--bar, --progress) at
/// most 10 times a second (a timer of the same ppoll; SIGWINCH redraws it), the running jobs on
/// SIGUSR1, the summary at the end. Everything reaches stdout and stderr through SharedOutput.

#include <poll.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "host_slots.hpp"
#include "job_executor.hpp"
#include "job_list_reader.hpp"
#include "job_log.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "reporter.hpp"
#include "stop_signal.hpp"

namespace pexec::cli {

/// pexec's exit status when its stdout cannot be written (other than a closed pipe).
inline constexpr int kExitWriteError = 74;

/// A report that goes to a file beside pexec's output (--joblog, --jsonl-file, --junit).
struct Record {
  std::string name;  // the option and the file, for a message when it cannot be written
  Reporter* reporter;
};

class Engine {
 public:
  /// `signals` are the signals that stop the run, with SIGUSR1 (list the running jobs) and
  /// SIGWINCH (redraw the bar); the caller has blocked them in every thread (before starting
  /// any), and the engine takes them from a signalfd. `records` get every
  /// report too (the joblog, report files); `history` is the joblog --resume reads.
  Engine(const Options& options, JobExecutor& executor, Reporter& reporter, const sigset_t& signals,
         std::vector<Record> records = {}, const JobLogHistory* history = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Runs every job of `reader` and returns pexec's exit status (see pexec(1), EXIT STATUS):
  /// advance() and wait_for_events() in turn, then finish().
  int run(JobListReader& reader);

  // One turn of the loop, in parts, so that tests can drive it step by step.
  /// Starts what may start, hands jobs over, writes reports; false once the run is over.
  bool advance(JobListReader& reader);
  /// Waits (in the one ppoll) until something happens, and takes it in.
  void wait_for_events(JobListReader& reader);
  /// Writes the run's last messages and returns the exit status.
  int finish();
  StopLevel level() const { return level_; }
  /// The number of jobs the input holds, when known before the run (for the progress line).
  void expect_jobs(std::size_t total) { expected_jobs_ = total; }
  /// -S: which host each job slot is on (before run()); a job ssh could not carry runs again on
  /// another host, and --retries sends a failed job to a host where it has not failed.
  void use_hosts(const RemoteSettings& remote);

 private:
  /// Why the run ended early; the strongest reason decides the exit status.
  enum class StopReason { none, halt, no_host, input_error, output_closed, output_error, deadline, signal };

  struct InFlight {
    JobSpec spec;
    JobArgs args;                    // kept only to make the job again for another attempt (--retries, -S)
    std::set<int> failed_on;         // -S: the hosts where earlier attempts failed
    std::optional<int> pinned_host;  // --onall, --nonall: the one host it runs on
    Future<JobResult> future;
    std::chrono::steady_clock::time_point started;  // for SIGUSR1's list
    // With --timeout: when a job still out must have been reported, even stopped at its timeout
    // after --grace; past it, its worker does not answer (a process worker stopped by SIGSTOP).
    std::chrono::steady_clock::time_point overdue_at = std::chrono::steady_clock::time_point::max();
    bool overdue = false;
  };

  /// A job that failed and runs again at `due` (--retries), with what its last attempt gave.
  struct Retry {
    JobArgs args;
    JobResult last;
    std::set<int> avoid;             // -S: hosts to run it elsewhere than, while another is alive
    std::set<int> failed_on;         // -S: the hosts where its attempts failed
    bool requeued = false;           // ssh could not carry it: the same attempt again, elsewhere
    std::optional<int> pinned_host;  // --onall, --nonall: waits for a slot on this host only
  };

  void start_jobs(JobListReader& reader);
  /// Whether another job may start now: a free slot, and --delay after the last start.
  bool may_start();
  /// The job `seq` of `args`: its command line for `slot` (0 for a job that never starts).
  JobSpec make_job(const JobArgs& args, std::uint64_t seq, int attempt, const JobListReader& reader, int slot);
  /// Takes the next job of the input: skipped (--resume), cancelled (stopping) or submitted;
  /// with --onall, one job for each host, each waiting for a slot there.
  void take(const JobArgs& args, const JobListReader& reader);
  void submit(JobSpec spec, JobArgs args, std::set<int> failed_on = {}, std::optional<int> pinned_host = {});
  /// -S: a job ssh could not carry; runs it again elsewhere, or drops its host. False if the
  /// run cannot take it again (stopping, or no host left).
  bool requeue(InFlight& job, JobResult& result);
  /// Another attempt for a job whose attempt failed, if --retries allows one; false if not.
  bool retry_later(InFlight& job, JobResult& result);
  void start_due_retries(const JobListReader& reader);
  /// A stopping run runs nothing again: each job waiting for another attempt is reported by its last.
  void give_up_retries();
  void take_input_error(const InputError& e);
  void take_signals();
  /// Collects the jobs in completed_; `woken`: the eventfd was written, and is reset.
  void take_completions(bool woken);
  void collect(std::uint64_t seq);
  void handle(JobResult result);
  /// Hands a final result to the reporters, in input order with -k (`result` empty: job `seq`
  /// was skipped and only holds its place).
  void report(std::uint64_t seq, std::optional<JobResult> result);
  void flush_reports();
  void begin_stop(StopReason reason, StopLevel level);
  void raise_level(StopLevel level);
  /// Reports as cancelled the items held but not started (the rest of the ::: items, the
  /// complete lines already read).
  void cancel_held_items(JobListReader& reader);
  std::optional<std::chrono::steady_clock::time_point> next_timer() const;
  /// Jobs past overdue_at: their workers do not answer, and are killed; the jobs are timeouts.
  void take_overdue_jobs(std::chrono::steady_clock::time_point now);
  int exit_status() const;
  /// The progress line as the run stands.
  std::string progress_text() const;
  /// Draws the progress line now, and sets when to draw it next.
  void draw_progress();
  /// SIGUSR1: the running jobs on stderr, as GNU parallel lists them.
  void list_running_jobs();
  /// Writes to stderr, under SharedOutput's lock (the bar stays whole).
  void message(const std::string& text);

  const Options& options_;
  JobExecutor& executor_;
  Reporter& reporter_;
  const std::vector<Record> records_;
  const JobLogHistory* const history_;
  const CommandTemplate command_template_;
  const CommandTemplate tag_template_;                                          // --tagstring
  const std::vector<CommandTemplate> transfer_templates_, return_templates_;    // -S: --transferfile, --return
  const CommandTemplate data_template_, data_file_template_, output_template_;  // --data/--json, --data-file, -O
  const std::vector<CommandTemplate> header_templates_;                         // -H, when one is per job
  const std::size_t workers_;  // the most jobs the executor runs at once
  std::size_t slots_;          // how many may run now (-j FILE changes it)
  const std::size_t keep_order_window_;
  HostSlots free_slots_;
  std::vector<std::string> host_names_;  // -S: each host's login; empty: no hosts
  int signal_fd_ = -1;
  int completion_fd_ = -1;        // an eventfd the done-callbacks write, from threads other than the loop's
  std::thread::id loop_thread_;   // the thread that made the Engine and runs its loop
  std::vector<int> watched_fds_;  // the executor's, for this turn's ppoll
  std::vector<pollfd> poll_fds_;  // this turn's ppoll: signals, completions, input, watched_fds_

  // Shared with the done-callbacks (pool threads): guarded by mutex_.
  std::mutex mutex_;
  std::vector<std::uint64_t> completed_;

  // The loop's own.
  bool started_ = false;
  std::uint64_t next_seq_ = 1;
  std::map<std::uint64_t, InFlight> in_flight_;
  std::map<std::uint64_t, std::optional<JobResult>> reorder_;  // -k: reported once all earlier ones are
  std::uint64_t next_to_report_ = 1;
  std::multimap<std::chrono::steady_clock::time_point, Retry> retries_;  // by when they are due
  std::optional<std::chrono::steady_clock::time_point> next_start_;      // --delay
  bool start_delayed_ = false;                                           // a start waits for --delay
  bool input_ended_ = false;
  bool input_wanted_ = false;  // a slot waits for the reader's fd
  std::optional<std::string> input_error_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  StopLevel level_ = StopLevel::running;
  std::chrono::steady_clock::time_point level_since_;
  StopReason stop_reason_ = StopReason::none;
  int first_signal_ = 0;
  int output_errno_ = 0;
  std::string record_error_;               // why a record file could not be written
  HaltCounts counts_;                      // of the jobs that finished
  std::optional<JobResult> halt_trigger_;  // the job that tripped --halt
  std::size_t jobs_read_ = 0;              // not counting those --resume skips
  std::size_t unfinished_ = 0;             // cancelled or killed
  RunTally tally_;                         // how the jobs ended, for the summary

  // What the user watches.
  std::chrono::steady_clock::time_point started_at_;
  bool progress_in_place_ = false;  // drawn over itself on stderr's terminal
  bool show_progress_ = false;
  std::chrono::steady_clock::time_point next_draw_;
  bool reported_since_flush_ = false;
  std::optional<std::size_t> expected_jobs_;
};

}  // namespace pexec::cli
