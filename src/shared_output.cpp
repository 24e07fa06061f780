#include "shared_output.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <system_error>

#include "pexec/detail/write_all.hpp"

namespace pexec::cli {

namespace {
constexpr std::string_view kClearLine = "\r\033[K";  // to the line's start, and erase it
}

struct SharedOutput::State {
  pthread_mutex_t mutex;
  std::atomic<std::uint64_t> live_seq{1};
  bool in_place = false;            // the bar is drawn over itself on stderr's terminal
  bool stdout_on_terminal = false;  // stdout is that terminal too
  // Whether the terminal's cursor is at the start of a line, the bar aside: the bar is drawn
  // only then, so that clearing it never erases the start of a job's unfinished line.
  bool at_line_start = true;
  bool bar_on_screen = false;
  bool bar_hidden = false;  // taken off for a write, drawn again when the writer is done
  std::uint32_t bar_size = 0;
  char bar[4096];
};

namespace {

SharedOutput*& attached() {
  static SharedOutput* output = nullptr;
  return output;
}

}  // namespace

SharedOutput::State* SharedOutput::map_state(int fd) {
  void* memory = ::mmap(nullptr, sizeof(State), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
  return static_cast<State*>(memory);
}

SharedOutput& SharedOutput::get() {
  static SharedOutput* output = [] {
    if (attached()) return attached();
    // No FD_CLOEXEC: process workers inherit it (jobs do not: they keep only fds 0-2).
    // Above fds 3 and 4, which a worker's pipes to pexec take.
    int created = ::memfd_create("pexec-output", 0);
    int fd = created < 0 ? -1 : ::fcntl(created, F_DUPFD, 10);
    if (created >= 0) ::close(created);
    if (fd < 0 || ::ftruncate(fd, sizeof(State)) != 0) {
      throw std::system_error(errno, std::generic_category(), "memfd_create");
    }
    auto* state = new (map_state(fd)) State();
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&state->mutex, &attributes);
    pthread_mutexattr_destroy(&attributes);
    return new SharedOutput(fd, state);  // lives as long as the process
  }();
  return *output;
}

void SharedOutput::attach(int fd) { attached() = new SharedOutput(fd, map_state(fd)); }

bool SharedOutput::lock() {
  // A process worker killed while it held the lock leaves it "owner dead": take it over. One
  // stopped (SIGSTOP) while it holds it cannot be told from a slow one: after a second, write
  // without the lock rather than hang the run.
  timespec until{};
  ::clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += 1;
  int error = pthread_mutex_clocklock(&state_->mutex, CLOCK_MONOTONIC, &until);
  if (error == EOWNERDEAD) pthread_mutex_consistent(&state_->mutex);
  return error == 0 || error == EOWNERDEAD;
}

void SharedOutput::unlock() { pthread_mutex_unlock(&state_->mutex); }

void SharedOutput::use_terminal(bool stdout_too) {
  Writer writer(*this);
  state_->in_place = true;
  state_->stdout_on_terminal = stdout_too;
}

void SharedOutput::set_live_seq(std::uint64_t seq) { state_->live_seq.store(seq, std::memory_order_release); }

std::uint64_t SharedOutput::live_seq() const { return state_->live_seq.load(std::memory_order_acquire); }

void SharedOutput::before_write(int fd) {
  bool on_terminal = fd == STDERR_FILENO || (fd == STDOUT_FILENO && state_->stdout_on_terminal);
  if (!state_->bar_on_screen || !on_terminal) return;
  detail::write_all(STDERR_FILENO, kClearLine);
  state_->bar_on_screen = false;
  state_->bar_hidden = true;
}

void SharedOutput::after_write(int fd, std::string_view data) {
  bool on_terminal = fd == STDERR_FILENO || (fd == STDOUT_FILENO && state_->stdout_on_terminal);
  if (state_->in_place && on_terminal && !data.empty()) state_->at_line_start = data.back() == '\n';
}

void SharedOutput::redraw_if_hidden() {
  if (!state_->bar_hidden || !state_->at_line_start) return;
  state_->bar_hidden = false;
  if (detail::write_all(STDERR_FILENO, std::string_view(state_->bar, state_->bar_size))) state_->bar_on_screen = true;
}

SharedOutput::Writer::Writer(SharedOutput& output) : output_(output), locked_(output_.lock()) {}

SharedOutput::Writer::~Writer() {
  output_.redraw_if_hidden();
  if (locked_) output_.unlock();
}

bool SharedOutput::Writer::write(int fd, std::string_view data) {
  output_.before_write(fd);
  bool written = detail::write_all(fd, data);
  int error = errno;
  output_.after_write(fd, data);
  errno = error;
  return written;
}

bool SharedOutput::write(int fd, std::string_view data) { return Writer(*this).write(fd, data); }

void SharedOutput::draw_bar(std::string_view bar) {
  Writer writer(*this);
  State& state = *state_;
  if (!state.in_place) {  // forced into a pipe or a file: a plain line
    detail::write_all(STDERR_FILENO, std::string(bar) + "\n");
    return;
  }
  store_bar(bar);
  if (state.bar_on_screen) {
    detail::write_all(STDERR_FILENO, "\r");
    state.bar_on_screen = false;
  }
  state.bar_hidden = true;  // the writer draws it as it ends, if the cursor is at a line's start
}

void SharedOutput::store_bar(std::string_view bar) {
  State& state = *state_;
  state.bar_size = static_cast<std::uint32_t>(std::min(bar.size(), sizeof state.bar - kClearLine.size()));
  std::memcpy(state.bar, bar.data(), state.bar_size);
  // The text ends with an erase to the line's end: a shorter bar leaves nothing of a longer one.
  std::memcpy(state.bar + state.bar_size, kClearLine.data() + 1, kClearLine.size() - 1);
  state.bar_size += static_cast<std::uint32_t>(kClearLine.size() - 1);
}

void SharedOutput::set_bar(std::string_view bar) {
  Writer writer(*this);
  if (state_->in_place) store_bar(bar);
}

void SharedOutput::clear_bar() {
  Writer writer(*this);
  if (state_->bar_on_screen) detail::write_all(STDERR_FILENO, kClearLine);
  state_->bar_on_screen = false;
  state_->bar_hidden = false;
}

}  // namespace pexec::cli
