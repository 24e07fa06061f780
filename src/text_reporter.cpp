#include "text_reporter.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace pexec::cli {

std::string prefix_lines(std::string_view text, std::string_view prefix) {
  std::string out;
  out.reserve(text.size() + prefix.size() * 4);
  bool line_start = true;
  for (char c : text) {
    if (line_start) out.append(prefix);
    out += c;
    line_start = c == '\n';
  }
  return out;
}

std::string TextReporter::failure_reason(const JobResult& r) const {
  char text[64];
  switch (r.status) {
    case JobStatus::timeout:
      std::snprintf(text, sizeof text, "timeout after %gs", timeout_.value_or(0));
      return text;
    case JobStatus::killed:
      return "killed by pexec";
    case JobStatus::error:
      return r.kind == "url" ? r.error : "could not start: " + r.error;
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

void TextReporter::report(const JobResult& r) {
  if (r.status == JobStatus::cancelled) return;  // never ran: nothing to show
  if (r.kind == "url") {
    // "STATUS BYTES SECONDS URL"; 000 when no HTTP response came, as curl writes it. Formatted
    // with to_chars, not snprintf: a run can print tens of thousands of these lines a second.
    char head[64];
    int status = std::clamp(r.http_status.value_or(0), 0, 999);
    char* end = head;
    for (int digit : {status / 100, status / 10 % 10, status % 10}) *end++ = static_cast<char>('0' + digit);
    *end++ = ' ';
    end = std::to_chars(end, head + sizeof head, r.bytes).ptr;
    *end++ = ' ';
    end = std::to_chars(end, head + sizeof head, r.duration_s, std::chars_format::fixed, 3).ptr;
    *end++ = ' ';
    put(STDOUT_FILENO, std::string_view(head, static_cast<std::size_t>(end - head)));
    put(STDOUT_FILENO, r.input);
    put(STDOUT_FILENO, "\n");
    if (r.status != JobStatus::ok) {
      put(STDERR_FILENO,
          "pexec: job " + std::to_string(r.seq) + " failed (" + failure_reason(r) + "): " + r.input + "\n");
    }
    return;
  }
  if (tag_) {
    std::string prefix = r.input + "\t";
    put(STDOUT_FILENO, prefix_lines(r.out, prefix));
    put(STDERR_FILENO, prefix_lines(r.err, prefix));
  } else {
    put(STDOUT_FILENO, r.out);
    put(STDERR_FILENO, r.err);
  }
  if (r.status != JobStatus::ok) {
    put(STDERR_FILENO, "pexec: job " + std::to_string(r.seq) + " failed (" + failure_reason(r) +
                           "): " + (r.command.empty() ? r.input : r.command) + "\n");
  }
}

}  // namespace pexec::cli
