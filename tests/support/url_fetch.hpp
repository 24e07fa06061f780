#pragma once
// What the URL job tests share: the modes, a run of pexec in jsonl, and a stopwatch.

#include <doctest/doctest.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pexec_process.hpp"

inline const std::vector<std::string> kModes{"thread", "process"};

/// Runs pexec with --format jsonl -k and returns the objects, one per job; checks the exit
/// status, and that stderr holds nothing but, when a job failed, the run's last line.
inline std::vector<nlohmann::json> fetch(const std::string& mode, std::vector<std::string> args, int expected_status,
                                         const std::string& input = "") {
  args.insert(args.begin(), {"--mode", mode, "--format", "jsonl", "-k"});
  auto r = run_pexec(args, input);
  CHECK(r.status == expected_status);
  CHECK(std::regex_match(r.err, std::regex("(pexec: [0-9]+ of [0-9]+ jobs? failed\n)?")));
  return parse_json_lines(r.out);
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
