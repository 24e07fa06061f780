#pragma once
/// JobListReader: turns the input sources into jobs' arguments, with GNU parallel's meanings:
/// several sources give every combination (the last varies fastest), linked ones (:::+, --link)
/// go item by item; --colsep splits an item into columns, --trim trims them, --col-header names
/// them; -n, -X, --xargs and -L put several records into one job.
///
/// Memory: the first source (with those linked to it by :::+) is read as jobs start, so one
/// endless source costs no more than one item; every other source, and all of them with --link
/// or when -X/--xargs spread a list over several slots, is read to its end before the first job.
///
/// Passive, like its sources: next() never waits; the caller polls fd() and calls fill().

#include <cstddef>
#include <deque>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "command_template.hpp"
#include "input_source.hpp"

namespace pexec::cli {

/// --trim: which ends of each column lose their white space.
enum class Trim { none, left, right, both };

/// How the reader makes jobs of the items (the input options of the command line).
struct InputRules {
  std::string column_separator;       // --colsep REGEX; empty: an item is one column
  std::optional<Trim> trim;           // --trim; default: both with --colsep, none without
  std::optional<std::string> header;  // --col-header: ":" or a regex the first line matches
  bool link_all = false;              // --link
  bool skip_blank = false;            // -r: no job whose columns are all white space
  // Several records per job.
  std::optional<std::size_t> max_args;  // -n/-N: at most this many records per job
  bool no_arguments = false;            // -N 0: one record per job, none of it on the line
  bool fill_line = false;               // -X, --xargs, -L: as many records as fit in max_chars
  std::size_t max_lines = 0;            // -L: at most this many records per job (0: no limit)
  std::size_t max_chars = 0;            // -s; 0: kDefaultMaxChars
  std::size_t spread_over = 1;          // -X/--xargs without -L: slots to spread the list over evenly
};

/// The longest command line by default: what one argument (that of sh -c) may hold on Linux.
inline constexpr std::size_t kDefaultMaxChars = 131071;

/// A job's arguments: the columns of its records, in order.
using JobArgs = std::vector<std::string>;

class JobListReader {
 public:
  /// Each source with whether it is linked to the one before it (:::+, ::::+). `command` sizes
  /// the command lines for -X, --xargs, -L and -s. Throws InputError for a bad --colsep.
  JobListReader(std::vector<InputSource> sources, std::vector<bool> linked, InputRules rules,
                CommandTemplate command = CommandTemplate());
  /// One source of ::: items, for tests.
  static JobListReader from_items(std::vector<std::string> items);

  JobListReader(JobListReader&&) = default;
  JobListReader& operator=(JobListReader&&) = default;

  /// The next job's arguments if they are complete in what was read; nothing when fill() must
  /// read more first, or at the end (at_end()). Never blocks. Throws InputError.
  std::optional<JobArgs> next();
  /// Whether every source has ended and every job was taken.
  bool at_end() const;
  /// The file to wait on before fill(); -1 when nothing is left to read.
  int fd() const;
  /// Reads once from the source fd() belongs to: call it when fd() is readable.
  void fill();
  /// Reads no more: what is complete in memory still makes jobs (they are then cancelled).
  void stop_reading();
  /// next() that reads (blocking) as needed: for --dry-run, --shellquote and tests.
  std::optional<JobArgs> next_blocking();

  /// The column names from --col-header (empty until the header was read).
  const std::vector<std::string>& column_names() const { return column_names_; }

 private:
  /// One record: the columns of one combination of the sources' items.
  std::optional<JobArgs> next_record();
  /// Composes the record at the odometer and moves it on; nothing when no combination is left.
  std::optional<JobArgs> compose_record();
  /// The source that must be read before next() can go on, if any.
  std::optional<std::size_t> source_to_read() const;
  /// Reads the sources read whole; false while one is still being read.
  bool read_whole_sources();
  std::vector<std::string> columns_of(std::string item) const;
  void take_header(std::size_t source, const std::string& item);

  std::vector<InputSource> sources_;
  std::vector<std::vector<std::size_t>> groups_;  // linked sources, in order
  InputRules rules_;
  CommandTemplate command_;
  std::optional<std::regex> column_separator_;  // a --colsep that is a regex
  std::string literal_separator_;               // a --colsep that is one fixed string
  std::optional<std::regex> header_;
  bool first_group_lazy_ = true;
  bool stopped_ = false;

  std::vector<std::vector<std::vector<std::string>>> whole_;  // per source read whole: its items' columns
  std::vector<bool> header_taken_;
  std::vector<std::vector<std::string>> header_names_;  // per source
  std::vector<std::string> column_names_;
  bool whole_read_ = false;
  std::vector<std::optional<std::vector<std::string>>> lazy_row_;  // the first group's current items
  bool lazy_row_ready_ = false;
  std::vector<std::size_t> odometer_;  // per group: index into its items
  bool combinations_ended_ = false;

  std::deque<JobArgs> records_;  // read ahead for -n, -X and spreading
  bool spread_decided_ = false;
  std::size_t per_job_ = 0;
};

}  // namespace pexec::cli
