#pragma once
/// JobListReader: yields the items of the job list one at a time, reading its files lazily, so
/// that the first job can start before stdin ends and memory stays bounded. Items are lines (or
/// NUL-separated with -0); empty items are skipped.

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
  /// The items given after ::: on the command line.
  static JobListReader from_items(std::vector<std::string> items);
  /// Opens every file now ("-" is stdin), so that a missing one fails before any job runs;
  /// throws InputError. Reading stops early once `stop_fd` becomes readable.
  static JobListReader from_files(const std::vector<std::string>& paths, char delimiter, int stop_fd);

  JobListReader(JobListReader&&) noexcept;
  JobListReader& operator=(JobListReader&&) noexcept;
  ~JobListReader();

  /// The next item, or nothing at the end of the list (or once stopped). Throws InputError.
  std::optional<std::string> next();

 private:
  JobListReader() = default;
  bool fill();  // reads more of the current file; false at its end

  struct Source {
    std::string name;
    int fd;
  };
  std::vector<std::string> items_;
  std::size_t next_item_ = 0;
  std::vector<Source> sources_;
  std::size_t current_ = 0;
  char delimiter_ = '\n';
  int stop_fd_ = -1;
  std::string buffer_;
  std::size_t buffer_start_ = 0;
};

}  // namespace pexec::cli
