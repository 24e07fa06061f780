// StepStderr: srun's stderr in, the job's own stderr out (the wrapper's first line and srun's
// closing line taken out, whatever the pieces the pipe gives).
#include "slurm_step.hpp"

#include <doctest/doctest.h>

#include <string>

using pexec::cli::StepStderr;

namespace {
/// What the job's stderr reads as, with srun's bytes given `piece` bytes at a time.
std::string filtered(StepStderr& stderr_of_step, const std::string& bytes, std::size_t piece) {
  std::string out;
  for (std::size_t at = 0; at < bytes.size(); at += piece) out += stderr_of_step.take(bytes.substr(at, piece));
  return out + stderr_of_step.finish();
}
}  // namespace

TEST_CASE("the wrapper's line names the node and the step, and srun's closing line is no part of the job's stderr") {
  for (std::size_t piece : {1, 7, 4096}) {
    CAPTURE(piece);
    StepStderr step;
    std::string job(3000, 'e');
    job += "\nlast\n";
    CHECK(filtered(step, "pexec-step node7 41.3\n" + job + "srun: error: node7: task 0: Exited with exit code 3\n",
                   piece) == job);
    CHECK(step.started());
    CHECK(step.node() == "node7");
    CHECK(step.step() == "41.3");
  }
}

TEST_CASE("a closing line glued to output without a newline is taken off, the job's own srun-like lines are not") {
  StepStderr glued;
  CHECK(filtered(glued, "pexec-step n 1.0\nno newlinesrun: error: n: task 0: Killed\n", 5) == "no newline");
  StepStderr own;
  CHECK(filtered(own, "pexec-step n 1.0\nsrun: error: the job's own words\n", 3) ==
        "srun: error: the job's own words\n");
  StepStderr quiet;
  CHECK(filtered(quiet, "pexec-step n 1.0\n", 4).empty());
}

TEST_CASE("without the wrapper's line, srun never made the step: its message is kept whole") {
  StepStderr step;
  std::string message = "srun: error: Unable to create step for job 9: Invalid generic resource\n";
  CHECK(filtered(step, message, 10) == message);
  CHECK_FALSE(step.started());
}

TEST_CASE("srun's line about the task's end, relayed before the task's last stderr, is taken out too") {
  for (std::size_t piece : {1, 7, 1000}) {
    CAPTURE(piece);
    StepStderr step;
    CHECK(filtered(step,
                   "pexec-step vm 12.0\nsrun: error: vm: task 0: Exited with exit code 127\n/bin/sh: 1: x: not found\n",
                   piece) == "/bin/sh: 1: x: not found\n");
  }
  StepStderr other;  // another node's words are the job's
  CHECK(filtered(other, "pexec-step vm 12.0\nsrun: error: db: task 0: it said\nlast\n", 4) ==
        "srun: error: db: task 0: it said\nlast\n");
}
