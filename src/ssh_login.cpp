#include "ssh_login.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace pexec::cli {

namespace {

bool all_digits(const std::string& text) {
  return !text.empty() && text.size() <= 6 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string trimmed(const std::string& text) {
  std::size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

SshLogin parse_one(const std::string& given) {
  SshLogin login;
  std::string rest = trimmed(given);
  auto bad = [&](const std::string& why) { return std::invalid_argument("-S/--sshlogin: '" + given + "' " + why); };
  if (std::size_t slash = rest.find('/'); slash != std::string::npos && all_digits(rest.substr(0, slash))) {
    int slots = std::stoi(rest.substr(0, slash));
    if (slots < 1 || slots > 1024) throw bad("asks for " + std::to_string(slots) + " jobs at once (1 to 1024)");
    login.slots = slots;
    rest = rest.substr(slash + 1);
  }
  login.text = rest;
  if (rest == ":") return login;
  if (rest.find_first_of(" \t'\"\\$`;&|<>()") != std::string::npos) {
    // GNU parallel's "ssh command" prefix and sshpass passwords: --ssh gives the command here.
    throw bad("is not [N/][user@]host[:port] (give the ssh command with --ssh)");
  }
  if (std::size_t at = rest.rfind('@'); at != std::string::npos) {
    login.user = rest.substr(0, at);
    if (login.user.empty() || login.user.find(':') != std::string::npos)
      throw bad("has no user before @, or a password (not supported: use keys or an agent)");
    rest = rest.substr(at + 1);
  }
  if (std::size_t colon = rest.rfind(':'); colon != std::string::npos && rest.find(':') == colon) {
    std::string port = rest.substr(colon + 1);
    if (!all_digits(port) || std::stoi(port) < 1 || std::stoi(port) > 65535) throw bad("has no valid port after :");
    login.port = std::stoi(port);
    rest = rest.substr(0, colon);
  }
  if (rest.empty() || rest.front() == '-') throw bad("names no host");
  if (rest.find_first_of("[],") != std::string::npos) throw bad("uses host ranges (not supported: list the hosts)");
  login.host = rest;
  return login;
}

}  // namespace

std::vector<SshLogin> parse_sshlogins(const std::vector<std::string>& values) {
  std::vector<SshLogin> logins;
  for (const std::string& value : values) {
    std::size_t from = 0;
    while (from <= value.size()) {
      std::size_t comma = value.find(',', from);
      std::string one = value.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
      from = comma == std::string::npos ? value.size() + 1 : comma + 1;
      if (trimmed(one).empty()) continue;
      SshLogin login = parse_one(one);
      bool seen = std::any_of(logins.begin(), logins.end(),
                              [&](const SshLogin& earlier) { return earlier.text == login.text; });
      if (!seen) logins.push_back(std::move(login));
    }
  }
  return logins;
}

std::vector<std::string> read_sshloginfile(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::invalid_argument("--sshloginfile: cannot read " + path + ": " + std::strerror(errno));
  std::vector<std::string> logins;
  for (std::string line; std::getline(file, line);) {
    line = trimmed(line.substr(0, line.find('#')));
    if (!line.empty()) logins.push_back(line);
  }
  return logins;
}

}  // namespace pexec::cli
