#include "job_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "input_source.hpp"
#include "pexec/detail/write_all.hpp"

namespace pexec::cli {

namespace {

/// Exitval and Signal of one run (see the header comment).
std::pair<int, int> exit_value_and_signal(const JobResult& r) {
  if (r.status == JobStatus::timeout) return {-1, r.kind == "url" ? 0 : r.signal.value_or(SIGTERM)};
  if (r.kind == "url") return {r.status == JobStatus::ok ? 0 : 1, 0};
  if (r.exit_code) return {*r.exit_code, 0};
  if (r.signal) return {0, *r.signal};
  return {r.status == JobStatus::ok ? 0 : -1, 0};
}

/// Whether `text` is a number as the joblog writes them: digits, at most one '.', a leading '-'
/// if `sign`, spaces before it (JobRuntime's padding).
bool is_number(std::string_view text, bool sign) {
  text.remove_prefix(std::min(text.size(), text.find_first_not_of(' ')));
  if (sign && text.starts_with('-')) text.remove_prefix(1);
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string_view::npos) return false;
  return std::count(text.begin(), text.end(), '.') <= 1 && text.front() != '.';
}

/// The joblog line `line` as an entry, with its Seq; false if it is not a joblog line.
bool parse_line(const std::string& line, std::uint64_t& seq, JobLogHistory::Entry& entry) {
  std::string_view fields[8];
  std::size_t start = 0;
  for (auto& field : fields) {
    std::size_t tab = line.find('\t', start);
    if (tab == std::string::npos) return false;
    field = std::string_view(line).substr(start, tab - start);
    start = tab + 1;
  }
  // Seq Host Starttime JobRuntime Send Receive Exitval Signal, then Command (which may hold TABs).
  bool well_formed = is_number(fields[0], false) && fields[0].find('.') == std::string_view::npos &&
                     is_number(fields[2], true) && is_number(fields[3], true) && is_number(fields[4], false) &&
                     is_number(fields[5], false) && is_number(fields[6], true) && is_number(fields[7], false);
  if (!well_formed) return false;
  try {
    seq = std::stoull(std::string(fields[0]));
    entry.exit_value = std::stoi(std::string(fields[6]));
    entry.signal = std::stoi(std::string(fields[7]));
  } catch (const std::exception&) {
    return false;
  }
  entry.command = line.substr(start);
  std::replace(entry.command.begin(), entry.command.end(), '\0', '\n');
  return true;
}

}  // namespace

std::string job_log_line(const JobResult& r) {
  auto [exit_value, signal] = exit_value_and_signal(r);
  std::int64_t start_ms = r.start_ms;
  if (start_ms == 0) {  // it never started: the time it was given up
    start_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
  }
  std::uint64_t received = r.kind == "url" ? static_cast<std::uint64_t>(r.bytes) : r.out.size();
  char fields[160];
  std::snprintf(fields, sizeof fields, "%lld.%03lld\t%10.3f\t0\t%llu\t%d\t%d\t",
                static_cast<long long>(start_ms / 1000), static_cast<long long>(start_ms % 1000), r.duration_s,
                static_cast<unsigned long long>(received), exit_value, signal);
  std::string command = command_or_input(r);
  for (char& c : command) {
    if (c == '\n') c = '\0';  // one line per run, as GNU parallel writes it
  }
  // Host: the -S login the job ran on; ":" for this machine, as GNU parallel writes it.
  std::string line = std::to_string(r.seq);
  line += '\t';
  line += r.host.empty() ? ":" : r.host;
  line += '\t';
  line += fields;
  line += command;
  line += '\n';
  return line;
}

void JobLogReporter::report(const JobResult& result) {
  if (result.status == JobStatus::cancelled || result.status == JobStatus::killed) return;
  put(fd(), job_log_line(result));
}

int open_job_log(std::string path, bool append) {
  if (path.starts_with('+')) {
    append = true;
    path.erase(0, 1);
  }
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) throw InputError("--joblog: cannot write " + path + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) == 0 && info.st_size == 0 && !detail::write_all(fd, kJobLogHeader)) {
    int error = errno;
    ::close(fd);
    throw InputError("--joblog: cannot write " + path + ": " + std::strerror(error));
  }
  return fd;
}

JobLogHistory JobLogHistory::read(std::string path, bool failed_commands) {
  if (path.starts_with('+')) path.erase(0, 1);
  JobLogHistory history;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 && errno == ENOENT) return history;  // nothing ran yet
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError("--joblog: cannot read " + path);
  std::string line;
  std::size_t number = 0;
  while (std::getline(file, line)) {
    ++number;
    if (number == 1 && line + "\n" == kJobLogHeader) continue;
    std::uint64_t seq = 0;
    Entry entry;
    if (!parse_line(line, seq, entry)) {
      throw InputError("--joblog: " + path + " line " + std::to_string(number) + " is not a joblog line");
    }
    if (!failed_commands || entry.succeeded()) entry.command.clear();  // memory for a long joblog
    history.entries_[seq] = std::move(entry);
  }
  return history;
}

bool JobLogHistory::skips(std::uint64_t seq, Resume resume) const {
  const Entry* entry = find(seq);
  switch (resume) {
    case Resume::none:
      return false;
    case Resume::unrecorded:
      return entry != nullptr;
    case Resume::unsucceeded:
      return entry && entry->succeeded();
    case Resume::failed_only:  // a job the joblog does not record has no command to run
      return !entry || entry->succeeded();
  }
  return false;
}

const JobLogHistory::Entry* JobLogHistory::find(std::uint64_t seq) const {
  auto entry = entries_.find(seq);
  return entry == entries_.end() ? nullptr : &entry->second;
}

}  // namespace pexec::cli
