#pragma once
/// SshLogin: one host of -S/--sshlogin or --sshloginfile, in GNU parallel's form
/// `[N/][user@]host[:port]`, or `:` for this machine.

#include <optional>
#include <string>
#include <vector>

namespace pexec::cli {

struct SshLogin {
  std::string text;          // as given, without N/: PARALLEL_SSHLOGIN
  std::optional<int> slots;  // N/: jobs at once on this host
  std::string user;          // user@, if given (else ssh's own choice: ~/.ssh/config, $USER)
  std::string host;          // PARALLEL_SSHHOST; empty for ":" (this machine)
  std::optional<int> port;   // :port
  bool local() const { return host.empty(); }
  /// ssh's destination argument: user@host, or host.
  std::string destination() const { return user.empty() ? host : user + "@" + host; }
  friend bool operator==(const SshLogin&, const SshLogin&) = default;
};

/// The logins of -S values (each may hold several, separated by commas) and of --sshloginfile
/// lines, in order, each host once (a repeated login is dropped). Throws std::invalid_argument
/// with a one-line reason for a login that does not parse.
std::vector<SshLogin> parse_sshlogins(const std::vector<std::string>& values);

/// The logins of an --sshloginfile: one per line; `#` starts a comment, blank lines are skipped.
/// Throws std::invalid_argument if the file cannot be read.
std::vector<std::string> read_sshloginfile(const std::string& path);

}  // namespace pexec::cli
