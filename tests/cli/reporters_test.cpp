// The two output formats, written to a capture of fds 1 and 2.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "json_lines_reporter.hpp"
#include "text_reporter.hpp"

using namespace pexec::cli;

namespace {
/// Captures what is written to fd 1 and 2 while alive; `merged`: both into `out`, as 2>&1.
class Capture {
 public:
  explicit Capture(bool merged = false) {
    std::fflush(stdout);
    std::fflush(stderr);
    for (int fd : {1, 2}) {
      saved_[fd - 1] = dup(fd);
      std::FILE* file = merged && fd == 2 ? nullptr : std::tmpfile();
      files_[fd - 1] = file;
      dup2(fileno(file ? file : files_[0]), fd);
    }
  }
  ~Capture() { restore(); }
  void restore() {
    if (restored_) return;
    restored_ = true;
    for (int fd : {1, 2}) {
      dup2(saved_[fd - 1], fd);
      close(saved_[fd - 1]);
      std::FILE* file = files_[fd - 1];
      if (!file) continue;
      std::rewind(file);
      std::string& text = fd == 1 ? out : err;
      char chunk[4096];
      std::size_t n;
      while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, n);
      std::fclose(file);
    }
  }
  std::string out, err;

 private:
  int saved_[2];
  std::FILE* files_[2];
  bool restored_ = false;
};

JobResult sample(JobStatus status) {
  JobResult r;
  r.seq = 7;
  r.input = "item 7";
  r.command = "do 'item 7'";
  r.status = status;
  r.start_ms = 1700000000123;
  r.duration_s = 0.25;
  r.out = "line 1\nline 2";
  r.err = "warn\n";
  r.worker = "ThreadPoolExecutor-0_1";
  return r;
}
}  // namespace

TEST_CASE("text: output blocks byte for byte, no failure line for a success") {
  TextReporter reporter(false, {});
  Capture capture;
  JobResult r = sample(JobStatus::ok);
  r.exit_code = 0;
  reporter.report(r);
  reporter.flush();
  capture.restore();
  CHECK(capture.out == "line 1\nline 2");
  CHECK(capture.err == "warn\n");
}

TEST_CASE("text: --tag prefixes every line with the item and a TAB") {
  TextReporter reporter(true, {});
  Capture capture;
  JobResult r = sample(JobStatus::ok);
  r.exit_code = 0;
  reporter.report(r);
  reporter.flush();
  capture.restore();
  CHECK(capture.out == "item 7\tline 1\nitem 7\tline 2");
  CHECK(capture.err == "item 7\twarn\n");
}

TEST_CASE("text: one failure line per unsuccessful job") {
  TextReporter reporter(false, 1.5);
  JobResult exited = sample(JobStatus::failed);
  exited.exit_code = 2;
  JobResult signalled = sample(JobStatus::failed);
  signalled.signal = SIGKILL;
  JobResult timed_out = sample(JobStatus::timeout);
  timed_out.signal = SIGTERM;
  JobResult not_started = sample(JobStatus::error);
  not_started.error = "cannot run /bin/sh: No such file or directory";
  CHECK(failure_reason(exited, 1.5) == "exit 2");
  CHECK(failure_reason(signalled, 1.5) == "signal SIGKILL");
  CHECK(failure_reason(timed_out, 1.5) == "timeout after 1.5s");
  CHECK(failure_reason(not_started, 1.5) == "could not start: cannot run /bin/sh: No such file or directory");
  Capture capture;
  reporter.report(exited);
  reporter.flush();
  capture.restore();
  CHECK(capture.err == "warn\npexec: job 7 failed (exit 2): do 'item 7'\n");
}

TEST_CASE("text: reports leave at flush(), in order across stdout and stderr") {
  TextReporter reporter(false, {});
  Capture capture(true);
  JobResult first = sample(JobStatus::failed);
  first.exit_code = 3;
  JobResult second = sample(JobStatus::ok);
  second.exit_code = 0;
  second.out = "second\n";
  second.err = "";
  reporter.report(first);
  reporter.report(second);
  std::fflush(stdout);
  CHECK(lseek(1, 0, SEEK_CUR) == 0);  // nothing written yet
  CHECK(reporter.flush() == 0);
  capture.restore();
  CHECK(capture.out == "line 1\nline 2warn\npexec: job 7 failed (exit 3): do 'item 7'\nsecond\n");
}

TEST_CASE("text: a cancelled job prints nothing") {
  TextReporter reporter(false, {});
  Capture capture;
  reporter.report(sample(JobStatus::cancelled));
  reporter.flush();
  capture.restore();
  CHECK(capture.out.empty());
  CHECK(capture.err.empty());
}

TEST_CASE("jsonl: one parseable object per job with every field") {
  JsonLinesReporter reporter;
  Capture capture;
  JobResult r = sample(JobStatus::failed);
  r.exit_code = 1;
  r.out = std::string("bad \xff\xfe utf8 \x01 \"quoted\"\n", 23);
  reporter.report(r);
  reporter.report(sample(JobStatus::cancelled));
  reporter.flush();
  capture.restore();
  CHECK(capture.err.empty());
  auto newline = capture.out.find('\n');
  REQUIRE(newline != std::string::npos);
  CHECK(capture.out.find('\n', newline + 1) == capture.out.size() - 1);  // exactly two lines
  auto j = nlohmann::json::parse(capture.out.substr(0, newline));
  CHECK(j["seq"] == 7);
  CHECK(j["input"] == "item 7");
  CHECK(j["command"] == "do 'item 7'");
  CHECK(j["kind"] == "shell");
  CHECK(j["status"] == "failed");
  CHECK(j["exit_code"] == 1);
  CHECK(j["signal"].is_null());
  CHECK(j["start"] == "2023-11-14T22:13:20.123Z");
  CHECK(j["duration_s"] == 0.25);
  CHECK(j["stdout"] == "bad \xEF\xBF\xBD\xEF\xBF\xBD utf8 \x01 \"quoted\"\n");
  CHECK(j["stderr"] == "warn\n");
  CHECK(j["worker"] == "ThreadPoolExecutor-0_1");
  auto cancelled = nlohmann::json::parse(capture.out.substr(newline + 1));
  CHECK(cancelled["status"] == "cancelled");
}

TEST_CASE("rfc3339_utc formats milliseconds") {
  CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00.000Z");
  CHECK(rfc3339_utc(1700000000005) == "2023-11-14T22:13:20.005Z");
}

TEST_CASE("Base64Encoder gives RFC 4648's test vectors, whatever the pieces the bytes come in") {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, expected] : vectors) {
    for (std::size_t piece : {1, 2, 4, 100}) {
      CAPTURE(bytes);
      CAPTURE(piece);
      pexec::cli::Base64Encoder encoder;
      std::string out;
      for (std::size_t at = 0; at < bytes.size(); at += piece)
        encoder.feed(std::string_view(bytes).substr(at, piece), out);
      encoder.finish(out);
      CHECK(out == expected);
    }
  }
}

TEST_CASE("a body is shown as text when its content type declares UTF-8 text, otherwise in base64") {
  using pexec::cli::declares_utf8_text;
  for (const char* text : {"text/plain", "text/html; charset=UTF-8", "application/json", "application/ld+json",
                           "image/svg+xml", "application/octet-stream; charset=\"utf-8\""}) {
    CHECK_MESSAGE(declares_utf8_text(text), text);
  }
  for (const char* binary : {"", "application/octet-stream", "image/png", "text/plain; charset=iso-8859-1"}) {
    CHECK_MESSAGE(!declares_utf8_text(binary), binary);
  }
}
