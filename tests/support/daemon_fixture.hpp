#pragma once
// DaemonFixture: a script of tests/fixtures that starts daemons for a test (`SCRIPT start DIR`,
// in a fresh folder) and stops them by PID at the end (`SCRIPT stop DIR`). A script that cannot
// run here exits 77 after a "skipped: ..." line, which the test shows.

#include <doctest/doctest.h>
#include <stdlib.h>

#include <string>

#include "shell_output.hpp"

struct DaemonFixture {
  std::string script, dir;
  bool running = false;
  /// `env`: assignments put before the start command ("NAME='value'").
  explicit DaemonFixture(std::string fixture_script, const std::string& env = "") : script(std::move(fixture_script)) {
    char pattern[] = "/tmp/pexec-fixture-XXXXXX";
    dir = ::mkdtemp(pattern);
    running = run("start", env);
  }
  ~DaemonFixture() {
    shell_output(script + " stop " + dir);
    shell_output("rm -rf " + dir);
  }
  DaemonFixture(const DaemonFixture&) = delete;
  DaemonFixture& operator=(const DaemonFixture&) = delete;
  /// `SCRIPT action DIR`: true if it succeeded; false if it cannot run here (shown as skipped)
  /// or failed (a failed check).
  bool run(const std::string& action, const std::string& env = "") const {
    auto [out, status] = shell_output(env + " " + script + " " + action + " " + dir + " 2>&1");
    if (status == 77) MESSAGE(out);
    if (status != 0 && status != 77) FAIL_CHECK(script << " " << action << " failed: " << out);
    return status == 0;
  }
};
