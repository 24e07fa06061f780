#pragma once
/// InputSource: one input source of the job list, as GNU parallel has them: the words after
/// one ::: on the command line, or a file (:::: FILE, -a FILE, standard input) read item by
/// item. JobListReader combines the sources into jobs.
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

class InputSource {
 public:
  /// An item longer than this is an input error (exit 2): an endless line (`-a /dev/zero`)
  /// must not take all memory.
  static constexpr std::size_t kMaxItemBytes = 128 << 20;

  /// The words after one ::: (empty ones too: they were typed).
  static InputSource from_items(std::vector<std::string> items);
  /// Opens `path` now ("-" is standard input), so that a missing file fails before any job
  /// runs; throws InputError. A FIFO is opened without waiting for its writer. Items end at
  /// `delimiter`; empty items are skipped, and with "\n" a CR before it is dropped (CRLF files).
  static InputSource from_file(const std::string& path, std::string delimiter);

  InputSource(InputSource&&) noexcept;
  InputSource& operator=(InputSource&&) noexcept;
  ~InputSource();

  /// The next item if one is complete in what was read; nothing when fill() must read more
  /// first, or at the end (at_end()). Never blocks. Throws InputError.
  std::optional<std::string> next();
  /// Whether the source has ended and every item was taken.
  bool at_end() const;
  /// The file to wait on before fill(); -1 when nothing is left to read.
  int fd() const;
  /// Reads once: call it when fd() is readable. Throws InputError.
  void fill();
  /// Reads no more: the complete items already read are still given, a partial one is dropped.
  void stop_reading();
  /// "standard input", the file's name, or ":::".
  const std::string& name() const { return name_; }

 private:
  InputSource() = default;
  void close_file();

  std::string name_;
  std::vector<std::string> items_;  // ::: words
  std::size_t next_item_ = 0;
  int fd_ = -1;
  bool ended_ = true;  // the file gave end-of-file; its tail is the last item
  std::string delimiter_ = "\n";
  std::string buffer_;
  std::size_t buffer_start_ = 0;
  std::size_t searched_ = 0;  // buffer_ holds no delimiter starting before this offset
};

}  // namespace pexec::cli
