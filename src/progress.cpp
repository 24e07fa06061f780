#include "progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pexec::cli {

namespace {

constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kReset = "\033[0m";

std::string painted(const std::string& text, const char* colour, bool on) {
  return on && !text.empty() ? colour + text + kReset : text;
}

std::string rate_text(const ProgressCounts& c) {
  if (c.elapsed_s <= 0 || c.done == 0) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f/s", static_cast<double>(c.done) / c.elapsed_s);
  return text;
}

/// The jobs in all if known: --total-jobs or a counted input, or what was read once it ended.
std::optional<std::size_t> total_of(const ProgressCounts& c) {
  if (c.total) return std::max(*c.total, c.read);
  if (c.input_ended) return c.read;
  return std::nullopt;
}

std::string eta_text(const ProgressCounts& c) {
  std::optional<std::size_t> total = total_of(c);
  if (total && c.done >= *total) return "ETA 0:00";
  if (!total || c.done == 0) return "ETA ?";
  double per_job = c.elapsed_s / static_cast<double>(c.done);
  return "ETA " + clock_time(per_job * static_cast<double>(*total - c.done));
}

/// "37/100", or "37/40+" while the input is still being read and its size is not known.
std::string done_text(const ProgressCounts& c) {
  std::optional<std::size_t> total = total_of(c);
  return std::to_string(c.done) + "/" + (total ? std::to_string(*total) : std::to_string(c.read) + "+");
}

}  // namespace

std::string clock_time(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

std::string progress_line(ProgressStyle style, const ProgressCounts& c, int width, bool colour) {
  std::string failed = c.failed ? std::to_string(c.failed) + " failed" : "";
  std::string rate = rate_text(c);
  if (style == ProgressStyle::status) {
    std::string line = "pexec: " + std::to_string(c.running) + " running, " + done_text(c) + " done";
    if (!failed.empty()) line += ", " + painted(failed, kRed, colour);
    if (!rate.empty()) line += ", " + rate;
    return line + ", " + clock_time(c.elapsed_s) + " elapsed, " + eta_text(c);
  }
  // The bar takes what the text leaves of the line; on a narrow terminal the text alone.
  // Appended piece by piece: GCC 12 at -O3 sees a false -Wrestrict overlap in
  // operator+(const char*, std::string&&).
  std::string tail = " ";
  tail += done_text(c);
  for (const std::string* part : {&failed, &rate}) {
    if (!part->empty()) tail.append("  ").append(*part);
  }
  tail.append("  ").append(clock_time(c.elapsed_s)).append("  ").append(eta_text(c));
  std::optional<std::size_t> total = total_of(c);
  std::size_t whole = total.value_or(c.read);
  double fraction = whole ? static_cast<double>(c.done) / static_cast<double>(whole) : 0;
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3d%% ", static_cast<int>(fraction * 100));
  // The last columns stay free: a line that filled the width would wrap when the terminal
  // echoes ^C after it, and the bar could no longer be cleared.
  int bar_width = width - 3 - static_cast<int>(tail.size()) - 5 - 2;
  std::string line = total ? percent : "";
  if (bar_width >= 10) {
    int filled = static_cast<int>(fraction * bar_width);
    std::string done_part(static_cast<std::size_t>(filled), '=');
    if (filled < bar_width && filled > 0) done_part.back() = '>';
    line.append("[").append(painted(done_part, kGreen, colour));
    line.append(static_cast<std::size_t>(bar_width - filled), ' ').append("]");
  }
  if (!failed.empty()) tail.replace(tail.find(failed), failed.size(), painted(failed, kRed, colour));
  return line + tail;
}

void RunTally::count(JobStatus status, std::uint64_t seq) {
  switch (status) {
    case JobStatus::ok:
      ++ok;
      return;
    case JobStatus::failed:
      ++failed;
      break;
    case JobStatus::error:
      ++error;
      break;
    case JobStatus::timeout:
      ++timeout;
      break;
    case JobStatus::killed:
      ++killed;
      return;
    case JobStatus::cancelled:
      ++cancelled;
      return;
  }
  if (failed_seqs.size() <= kMostSeqsShown) failed_seqs.push_back(seq);
}

std::string summary_line(const RunTally& t, double elapsed_s, bool colour) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1fs", elapsed_s);
  std::string line = "pexec: " + std::to_string(t.jobs) + (t.jobs == 1 ? " job" : " jobs") + " in " + seconds + ": " +
                     painted(std::to_string(t.ok) + " ok", kGreen, colour && t.ok);
  auto add = [&](std::size_t count, const std::string& what, bool bad) {
    if (count) line += ", " + painted(std::to_string(count) + " " + what, kRed, colour && bad);
  };
  add(t.failed, "failed", true);
  add(t.error, t.error == 1 ? "error" : "errors", true);
  add(t.timeout, "timed out", true);
  add(t.killed, "stopped", false);
  add(t.cancelled, "cancelled", false);
  if (!t.failed_seqs.empty() && t.failed_seqs.size() <= RunTally::kMostSeqsShown) {
    std::vector<std::uint64_t> seqs = t.failed_seqs;
    std::sort(seqs.begin(), seqs.end());
    line += " (failed:";
    for (std::uint64_t seq : seqs) line.append(" ").append(std::to_string(seq));
    line += ")";
  }
  return line + "\n";
}

}  // namespace pexec::cli
