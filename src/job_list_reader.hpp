#pragma once
/// JobListReader: yields the items of the job list one at a time, reading its files lazily, so
/// that the first job can start before stdin ends and memory stays bounded. Items are lines (or
/// NUL-separated with -0); empty items are skipped.
///
/// It is passive (ninja's rule): it never waits. next() gives an item if one is complete in what
/// was read; otherwise the caller waits for fd() to be readable (in its own poll, beside signals
/// and completions) and calls fill(). So a blocked stdin or a FIFO without a writer never holds
/// back a stop.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pexec::cli {

/// The job list could not be read: the message names the file and the reason.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JobListReader {
 public:
  /// An item longer than this is an input error (exit 2): an endless line (`-a /dev/zero`)
  /// must not take all memory.
  static constexpr std::size_t kMaxItemBytes = 128 << 20;

  /// The items given after ::: on the command line.
  static JobListReader from_items(std::vector<std::string> items);
  /// Opens every file now ("-" is stdin), so that a missing one fails before any job runs;
  /// throws InputError. A FIFO is opened without waiting for its writer.
  static JobListReader from_files(const std::vector<std::string>& paths, char delimiter);

  JobListReader(JobListReader&&) noexcept;
  JobListReader& operator=(JobListReader&&) noexcept;
  ~JobListReader();

  /// The next item if one is complete in what was read; nothing when fill() must read more
  /// first, or at the end of the list (at_end()). Never blocks. Throws InputError.
  std::optional<std::string> next();
  /// Whether every file has ended and every item was taken.
  bool at_end() const;
  /// The file to wait on before fill(); -1 when nothing is left to read.
  int fd() const;
  /// Reads once from the current file: call it when fd() is readable. Throws InputError.
  void fill();
  /// next() that reads (blocking) as needed: for --dry-run and tests.
  std::optional<std::string> next_blocking();

 private:
  JobListReader() = default;

  struct Source {
    std::string name;
    int fd;
  };
  std::vector<std::string> items_;
  std::size_t next_item_ = 0;
  std::vector<Source> sources_;
  std::size_t current_ = 0;
  bool current_ended_ = false;  // the current file gave end-of-file; its tail is the last item
  char delimiter_ = '\n';
  std::string buffer_;
  std::size_t buffer_start_ = 0;
  std::size_t searched_ = 0;  // buffer_ holds no delimiter before this offset
};

}  // namespace pexec::cli
