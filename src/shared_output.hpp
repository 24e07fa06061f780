#pragma once
/// SharedOutput: pexec's stdout and stderr as every writer shares them. The writers are the
/// engine's reporters, jobs that write as they go (--line-buffer, -u: in pool threads or in
/// process workers) and the progress bar. One lock makes each write whole (a line is never torn
/// by another job's line or by the bar), and keeps the bar below everything else: a write to
/// the bar's terminal clears the bar first and draws it again after.
///
/// The state lives in a memfd that process workers inherit (RunSettings carries its fd), so
/// the lock is a robust process-shared mutex: a worker killed while it holds it does not hang
/// the others (nor, after a second, does one stopped by SIGSTOP). With -k and live output, it also says which job may
/// write live: the oldest one not yet reported (GNU parallel's rule); the others keep their output until their turn.

#include <cstdint>
#include <string_view>

namespace pexec::cli {

class SharedOutput {
 public:
  /// This process's instance: created on first use, or attached to the parent's by attach().
  static SharedOutput& get();
  /// In a process worker: share the parent's state, whose memfd is `fd` (inherited).
  static void attach(int fd);
  /// The memfd a worker process attaches to.
  int fd() const { return fd_; }

  /// The bar is drawn in place on stderr's terminal; `stdout_too` when stdout is the same
  /// terminal, so that writes to it must clear the bar as well.
  void use_terminal(bool stdout_too);
  /// The oldest job not yet reported: the one that may write live with -k.
  void set_live_seq(std::uint64_t seq);
  std::uint64_t live_seq() const;

  /// Holds the lock while it lives; the bar comes back when it ends.
  class Writer {
   public:
    explicit Writer(SharedOutput& output);
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    /// Writes all of `data` to stdout or stderr; false with errno set if it cannot.
    bool write(int fd, std::string_view data);

   private:
    SharedOutput& output_;
    const bool locked_;
  };

  /// Writes `data` whole, under the lock; false with errno set if it cannot.
  bool write(int fd, std::string_view data);
  /// Draws `bar` (one line without its newline) in place of the last one, if the terminal's
  /// cursor is at the start of a line (a job's unfinished line is never written over).
  void draw_bar(std::string_view bar);
  /// Replaces the bar's text without drawing it: the next write draws it (in place only).
  void set_bar(std::string_view bar);
  /// Takes the bar off the screen for good.
  void clear_bar();

 private:
  struct State;
  static State* map_state(int fd);
  SharedOutput(int fd, State* state) : fd_(fd), state_(state) {}
  /// False if the lock could not be had in time (its holder is stopped): go on without it.
  bool lock();
  void unlock();
  /// Under the lock: a write to `fd` is about to happen; the bar leaves the screen if it shares it.
  void before_write(int fd);
  void after_write(int fd, std::string_view data);
  void redraw_if_hidden();
  void store_bar(std::string_view bar);

  int fd_;
  State* state_;
};

}  // namespace pexec::cli
