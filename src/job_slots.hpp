#pragma once
/// JobSlots: how many jobs may run at once (-j), in GNU parallel's forms: N; 0 for as many as
/// pexec can; +N and -N for this machine's CPU threads plus or minus N; N% of them; or a FILE
/// that holds one of these and is read again whenever a job finishes, so that a running pexec
/// can be sped up or slowed down.

#include <optional>
#include <string>

namespace pexec::cli {

class JobSlots {
 public:
  /// The most slots pexec runs: -j 0, and the ceiling of a -j FILE.
  static constexpr int kMost = 1024;

  /// The pool's default (nothing given).
  JobSlots() = default;
  /// Parses -j's value; an existing file's name is read as a FILE. Throws std::invalid_argument
  /// with a one-line reason.
  static JobSlots parse(const std::string& text);

  /// Whether -j was given at all.
  bool given() const { return form_ != Form::pool_default; }
  /// Whether -j gave a plain number of jobs (N).
  bool is_count() const { return form_ == Form::count; }
  /// Whether the count comes from a file, read again as jobs finish.
  bool from_file() const { return form_ == Form::file; }
  /// Whether -j asks for the most pexec can run (-j 0, -j FILE): then fewer is no news.
  bool asks_for_most() const { return form_ == Form::as_many || form_ == Form::file; }
  /// How many workers the pool needs: `pool_default` when -j was not given, the ceiling for
  /// -j 0 and -j FILE.
  int workers(int pool_default) const;
  /// How many jobs may run now (for -j FILE, read now; if the file cannot be read or holds no
  /// valid count, `previous`). At least 1.
  int current(int previous) const;

 private:
  enum class Form { pool_default, count, as_many, cpu_plus, cpu_percent, file };
  /// The count `text` means, if it is a valid -j value other than a file.
  static std::optional<JobSlots> parse_count(const std::string& text);
  int resolve() const;

  Form form_ = Form::pool_default;
  int value_ = 0;  // count, plus (may be negative), percent
  std::string file_;
};

}  // namespace pexec::cli
