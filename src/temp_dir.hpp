#pragma once
/// Where pexec keeps what it writes for itself (spilled output, ssh's control sockets, --workdir
/// ... folders here): $TMPDIR, else /tmp.

#include <cstdlib>
#include <string>

namespace pexec::cli {

inline std::string temp_dir() {
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

}  // namespace pexec::cli
