#include "text_reporter.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pexec::cli {

void LinePrefixer::feed(std::string_view piece, std::string& out) {
  out.reserve(out.size() + piece.size() + prefix_.size() * 4);
  for (char c : piece) {
    if (line_start_) out.append(prefix_);
    out += c;
    line_start_ = c == '\n';
  }
}

std::string tag_prefix(const std::string& tag, std::uint64_t seq, bool colour) {
  if (!colour) return tag + "\t";
  return "\033[30;" + std::to_string(41 + seq % 6) + "m" + tag + "\033[0m\t";
}

std::string prefix_lines(std::string_view text, std::string_view prefix) {
  std::string out;
  LinePrefixer(std::string(prefix)).feed(text, out);
  return out;
}

std::string failure_reason(const JobResult& r, std::optional<double> timeout) {
  char text[64];
  switch (r.status) {
    case JobStatus::timeout:
      std::snprintf(text, sizeof text, "timeout after %gs", timeout.value_or(0));
      return text;
    case JobStatus::killed:
      return "killed by pexec";
    case JobStatus::error:
      // A shell job that ran to its end and still errs lost its output: the reason says so.
      return r.kind == "url" || r.exit_code || r.signal ? r.error : "could not start: " + r.error;
    case JobStatus::cancelled:
      return "cancelled";
    default:
      break;
  }
  if (r.kind == "url") return r.error;
  if (r.signal) {
    const char* name = sigabbrev_np(*r.signal);
    return name ? std::string("signal SIG") + name : "signal " + std::to_string(*r.signal);
  }
  if (r.exit_code) return "exit " + std::to_string(*r.exit_code);
  return r.error.empty() ? nlohmann::json(r.status).get<std::string>() : r.error;  // the status's name
}

TextReporter::TextReporter(bool tag, std::optional<double> timeout, bool colour_stdout, bool colour_stderr,
                           bool url_bodies)
    : Reporter(STDOUT_FILENO), tag_(tag), timeout_(timeout), url_bodies_(url_bodies) {
  color_[STDOUT_FILENO] = colour_stdout;
  color_[STDERR_FILENO] = colour_stderr;
}

std::string TextReporter::failure_line(const JobResult& r, const std::string& what) const {
  std::string reason = failure_reason(r, timeout_);
  if (r.attempts > 1) reason += ", " + std::to_string(r.attempts) + " attempts";
  std::string line = "pexec: job " + std::to_string(r.seq) + " failed (" + reason + "): " + what;
  return color_[STDERR_FILENO] ? "\033[31m" + line + "\033[0m\n" : line + "\n";
}

void TextReporter::report(const JobResult& r) {
  if (r.status == JobStatus::cancelled) return;  // never ran: nothing to show
  if (r.kind == "url" && !url_bodies_) {
    // "STATUS BYTES SECONDS URL"; 000 when no HTTP response came, as curl writes it. Formatted
    // with to_chars, not snprintf: a run can print tens of thousands of these lines a second.
    char head[64];
    int status = std::clamp(r.http_status.value_or(0), 0, 999);
    char* end = head;
    for (int digit : {status / 100, status / 10 % 10, status % 10}) *end++ = static_cast<char>('0' + digit);
    if (r.skipped) std::fill(head, end, '-');
    *end++ = ' ';
    end = std::to_chars(end, head + sizeof head, r.bytes).ptr;
    *end++ = ' ';
    end = std::to_chars(end, head + sizeof head, r.duration_s, std::chars_format::fixed, 3).ptr;
    *end++ = ' ';
    put(STDOUT_FILENO, std::string_view(head, static_cast<std::size_t>(end - head)));
    put(STDOUT_FILENO, r.input);
    put(STDOUT_FILENO, "\n");
  } else {
    put_outputs(r);
  }
  if (r.status != JobStatus::ok) {
    put(STDERR_FILENO, failure_line(r, command_or_input(r)));
  }
}

void TextReporter::put_outputs(const JobResult& r) {
  if (tag_) {
    const std::string& tag = r.tag.empty() ? r.input : r.tag;
    for (auto [fd, output] : {std::pair{STDOUT_FILENO, &r.out}, std::pair{STDERR_FILENO, &r.err}}) {
      LinePrefixer prefixer(tag_prefix(tag, r.seq, color_[fd]));
      put_output(fd, *output, [&](std::string_view piece, std::string& out) { prefixer.feed(piece, out); });
    }
  } else {
    put_output(STDOUT_FILENO, r.out);
    put_output(STDERR_FILENO, r.err);
  }
}

}  // namespace pexec::cli
