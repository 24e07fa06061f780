#include "live_output.hpp"

#include <unistd.h>

#include "shared_output.hpp"

namespace pexec::cli {

namespace {
std::string tag_of(const JobSpec& spec) { return spec.tag.empty() ? spec.input : spec.tag; }
}  // namespace

LiveOutput::LiveOutput(const LiveOutputSettings& settings, const JobSpec& spec, JobResult& result)
    : settings_(settings),
      seq_(spec.seq),
      live_(!settings.keep_order),
      streams_{
          {STDOUT_FILENO, result.out, "", LinePrefixer(tag_prefix(tag_of(spec), spec.seq, settings.color_stdout))},
          {STDERR_FILENO, result.err, "", LinePrefixer(tag_prefix(tag_of(spec), spec.seq, settings.color_stderr))}} {}

bool LiveOutput::live() {
  if (live_) return true;
  if (SharedOutput::get().live_seq() != seq_) return false;
  live_ = true;
  // Its turn: what it kept goes out first, stdout then stderr, as the grouped report would.
  for (Stream& stream : streams_) {
    CapturedOutput kept = std::move(stream.kept);
    stream.kept = CapturedOutput();
    kept.for_each_piece([&](std::string_view piece) { pass_on(stream, piece); });
  }
  return true;
}

void LiveOutput::take(int fd, std::string_view data) {
  Stream& stream = streams_[fd == STDOUT_FILENO ? 0 : 1];
  if (write_errno_) return;  // nobody reads: the job is being stopped
  if (!live()) {
    stream.kept.append(data);
    return;
  }
  pass_on(stream, data);
}

void LiveOutput::pass_on(Stream& stream, std::string_view data) {
  if (settings_.mode == OutputMode::ungroup) return write(stream, data);
  // --line-buffer: only whole lines; a line's start waits for its end.
  std::size_t end = data.rfind('\n');
  if (end == std::string_view::npos) {
    stream.partial.append(data);
    return;
  }
  if (stream.partial.empty()) {
    write(stream, data.substr(0, end + 1));
  } else {
    stream.partial.append(data.substr(0, end + 1));
    write(stream, stream.partial);
    stream.partial.clear();
  }
  stream.partial.assign(data.substr(end + 1));
}

void LiveOutput::write(Stream& stream, std::string_view text) {
  if (write_errno_ || text.empty()) return;
  bool written;
  if (settings_.tag) {
    std::string tagged;
    stream.prefixer.feed(text, tagged);
    written = SharedOutput::get().write(stream.fd, tagged);
  } else {
    written = SharedOutput::get().write(stream.fd, text);
  }
  if (!written) write_errno_ = errno ? errno : EIO;
}

void LiveOutput::finish() {
  if (!live()) return;  // its output stays in the result, for the report in its turn
  for (Stream& stream : streams_) {
    write(stream, stream.partial);
    stream.partial.clear();
  }
}

}  // namespace pexec::cli
