#include "slurm_step.hpp"

#include "remote_command.hpp"

namespace pexec::cli {

namespace {

constexpr std::string_view kHeader = "pexec-step ";

/// Whether `line` is one of srun's own: its report of the task's end ("srun: error: NODE: task
/// 0: Exited with exit code 3", "...: Killed") or of a step stopped under it.
bool is_srun_line(std::string_view line) {
  if (!line.starts_with("srun: ")) return false;
  return line.find(": task 0: ") != std::string_view::npos || line.starts_with("srun: Job step aborted") ||
         line.starts_with("srun: forcing job termination");
}

/// Where srun's closing line starts in `text` (it ends it), or npos: at the start of the last
/// line, or glued to the job's last bytes when they end without a newline.
std::size_t closing_line(const std::string& text) {
  std::size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  std::size_t line = end == 0 ? std::string::npos : text.rfind('\n', end - 1);
  line = line == std::string::npos ? 0 : line + 1;
  std::string_view last = std::string_view(text).substr(line, end - line);
  if (is_srun_line(last)) return line;
  std::size_t glued = last.rfind("srun: error: ");
  if (glued != std::string_view::npos && is_srun_line(last.substr(glued))) return line + glued;
  return std::string::npos;
}

}  // namespace

std::vector<std::string> slurm_step_argv(const JobSpec& spec, int cpus, double grace) {
  // srun passes pexec's environment on, PARALLEL_SEQ and PARALLEL_JOBSLOT with it.
  std::string line = "printf 'pexec-step %s %s.%s\\n' \"$SLURMD_NODENAME\" \"$SLURM_JOB_ID\" \"$SLURM_STEP_ID\" >&2\n";
  line += remote_shell_line(spec.command, grace);
  return {"srun", "--exact", "-N1", "-n1", "-c", std::to_string(cpus), "-Q", "/bin/sh", "-c", line};
}

std::string StepStderr::take(std::string_view data) {
  if (!header_done_) {
    header_.append(data);
    std::size_t newline = header_.find('\n');
    bool may_be_header = std::string_view(header_).substr(0, kHeader.size()) == kHeader.substr(0, header_.size());
    if (newline == std::string::npos && may_be_header && header_.size() < 512) return "";
    header_done_ = true;
    std::string rest;
    if (header_.starts_with(kHeader) && newline != std::string::npos) {
      std::string words = header_.substr(kHeader.size(), newline - kHeader.size());
      std::size_t space = words.find(' ');
      node_ = words.substr(0, space);
      step_ = space == std::string::npos ? "" : words.substr(space + 1);
      rest = header_.substr(newline + 1);
    } else {
      rest = std::move(header_);  // srun's own message: the step never started
    }
    header_.clear();
    held_ += rest;
  } else {
    held_.append(data);
  }
  if (held_.size() <= kHeldBack) return "";
  std::string out = held_.substr(0, held_.size() - kHeldBack);
  held_.erase(0, held_.size() - kHeldBack);
  return out;
}

std::string StepStderr::finish() {
  if (!header_done_) {  // a partial first line that never ended: not the wrapper's
    held_ = std::move(header_);
    header_done_ = true;
  }
  if (started()) {
    for (std::size_t at = closing_line(held_); at != std::string::npos; at = closing_line(held_)) held_.erase(at);
    // srun writes its own line when the task's end reaches it, and the task's last stderr may be
    // relayed after it: a whole srun line about this step's task among the last bytes goes too.
    const std::string own = "srun: error: " + node_ + ": task 0: ";
    for (std::size_t line = 0; line < held_.size();) {
      std::size_t end = held_.find('\n', line);
      if (end == std::string::npos) break;
      std::string_view text = std::string_view(held_).substr(line, end - line);
      if (text.starts_with(own) || text.starts_with("srun: Job step aborted") ||
          text.starts_with("srun: forcing job termination")) {
        held_.erase(line, end + 1 - line);
      } else {
        line = end + 1;
      }
    }
  }
  return std::move(held_);
}

}  // namespace pexec::cli
