#pragma once
/// The files of remote jobs: what --transferfile, --return, --cleanup, --basefile and --workdir
/// do on a host. Files travel by rsync through the host's ssh master (rsync's -e is the job
/// sessions' own ssh command), so a transfer costs no new login. rsync -R keeps each file's
/// path under the folder the jobs run in (from a "/./" in the path on, if it has one), the way
/// GNU parallel lays files out; the host needs rsync too.
///
/// Passive: these functions make commands, and run_tools() runs helper commands to their end.

#include <cstdint>
#include <string>
#include <vector>

#include "job.hpp"

namespace pexec::cli {

/// The folder jobs run in on a host, relative to the login's home ("" is the home itself):
/// --workdir as given; "." the current folder's path under $HOME here; "..." a new folder per
/// job (`seq`) of this run (`run_id`).
std::string remote_workdir(const std::string& workdir, const std::string& run_id, std::uint64_t seq);

/// Where `file` lands under the job's folder on the host (rsync -R): its path from a "/./" on,
/// else its whole path without a leading "/" or "./".
std::string landed_path(const std::string& file);

/// Why `file` cannot be sent or brought back, or "" if it can: a ".." in its path would leave
/// the job's folder; a --return file must be relative (`returned`).
std::string unsafe_file_reason(const std::string& file, bool returned);

/// The rsync command that sends `files` (paths here) to `dir` on `host`, creating `dir`.
std::vector<std::string> send_files_argv(const RemoteHost& host, const std::string& control_path,
                                         const std::vector<std::string>& files, const std::string& dir);

/// The rsync command that brings `files` (paths under `dir` on `host`) back to the same paths here.
std::vector<std::string> bring_back_argv(const RemoteHost& host, const std::string& control_path,
                                         const std::vector<std::string>& files, const std::string& dir);

/// The remote shell command that removes `files` (as sent) from `dir` with the folders that
/// leaves empty; with `remove_dir` (a "..." folder), `dir` and all it holds.
std::string cleanup_command(const std::vector<std::string>& files, const std::string& dir, bool remove_dir);

/// How a helper command ended: its exit status (-1: it could not start, or was stopped) and
/// the first line it wrote to stderr (rsync's cause; what follows are its consequences).
struct ToolResult {
  int status = -1;
  std::string message;
  bool ok() const { return status == 0; }
};

/// Runs the commands at once, stdout to /dev/null, and waits for all; a readable `stop_fd`
/// (pexec is stopping) ends them with SIGTERM.
std::vector<ToolResult> run_tools(const std::vector<std::vector<std::string>>& commands, int stop_fd = -1);

}  // namespace pexec::cli
