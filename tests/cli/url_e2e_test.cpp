// URL jobs end to end: the built pexec fetching from a loopback server this test starts, in both
// modes; each case checks the status, bytes, exit code and JSON fields. Only 127.0.0.1 is used.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_test_server.hpp"
#include "pexec_process.hpp"
#include "temp_file.hpp"
#include "url_fetch.hpp"

namespace {
/// Killed mid-transfer, or cancelled if its fetcher had not started it yet (a worker process
/// still starting up when another job already finished).
bool stopped_by_pexec(const nlohmann::json& job) { return job["status"] == "killed" || job["status"] == "cancelled"; }
}  // namespace

TEST_CASE("200 with a known body: text line and every JSON field") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto text = run_pexec({"--mode", mode, ":::", server.url("/ok")});
    CHECK(text.status == 0);
    CHECK(text.out.starts_with("200 11 0."));
    std::string line_end = " ";  // appended: GCC 12 -O3 sees a false -Wrestrict in " " + std::string&&
    line_end.append(server.url("/ok")).append("\n");
    CHECK(text.out.ends_with(line_end));
    auto lines = fetch(mode, {":::", server.url("/ok")}, 0);
    REQUIRE(lines.size() == 1);
    auto& j = lines[0];
    CHECK(j["kind"] == "url");
    CHECK(j["status"] == "ok");
    CHECK(j["seq"] == 1);
    CHECK(j["input"] == server.url("/ok"));
    CHECK(j["url"] == server.url("/ok"));
    CHECK(j["http_status"] == 200);
    CHECK(j["http_version"] == "1.1");
    CHECK(j["bytes"] == 11);
    CHECK(j["content_type"] == "text/plain");
    CHECK(j["effective_url"] == server.url("/ok"));
    CHECK(j["attempts"] == 1);
    CHECK(j["error"].is_null());
    CHECK(j["start"].get<std::string>().ends_with("Z"));
    CHECK(j["duration_s"].get<double>() >= 0);
    CHECK(j["worker"].get<std::string>().starts_with(mode == "thread" ? "UrlFetcher-" : "pid:"));
  }
}

TEST_CASE("404 fails the job and the run, with a line on stderr") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec({"--mode", mode, ":::", server.url("/missing")});
    CHECK(r.status == 1);
    CHECK(r.out.starts_with("404 4 "));
    CHECK(r.err == "pexec: job 1 failed (HTTP 404): " + server.url("/missing") + "\npexec: 1 of 1 job failed\n");
    auto j = fetch(mode, {":::", server.url("/missing")}, 1)[0];
    CHECK(j["status"] == "failed");
    CHECK(j["http_status"] == 404);
  }
}

TEST_CASE("URL jobs have the progress line and the summary too") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec({"--mode", mode, "--bar", "--force-progress", "--summary", "-k", ":::", server.url("/ok"),
                        server.url("/missing"), server.url("/ok")});
    CHECK(r.status == 1);
    std::vector<std::string> lines;
    std::istringstream err(r.err);
    for (std::string line; std::getline(err, line);) lines.push_back(line);
    REQUIRE(lines.size() >= 3);
    CAPTURE(r.err);
    CHECK(lines[lines.size() - 2].find("] 3/3  1 failed") != std::string::npos);  // the last progress line
    CHECK(lines[lines.size() - 2].ends_with("ETA 0:00"));
    CHECK(lines.back().ends_with(": 2 ok, 1 failed (failed: 2)"));
  }
}

TEST_CASE("--retries N runs a job failing with a 500 up to N times in all, and reports the attempts") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto once = fetch(mode, {":::", server.url("/flaky?key=once-" + mode)}, 1)[0];
    CHECK(once["status"] == "failed");
    CHECK(once["http_status"] == 500);
    CHECK(once["attempts"] == 1);
    auto retried = fetch(mode, {"--retries", "2", ":::", server.url("/flaky?key=retried-" + mode)}, 0)[0];
    CHECK(retried["status"] == "ok");
    CHECK(retried["http_status"] == 200);
    CHECK(retried["attempts"] == 2);
    CHECK(retried["bytes"] == 9);
  }
}

TEST_CASE("--joblog and --resume-failed with URL jobs: only the failed fetch runs again") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    for (bool keep_order : {false, true}) {
      CAPTURE(mode);
      CAPTURE(keep_order);
      std::string log = "/tmp/pexec-url-joblog-" + std::to_string(getpid());
      std::remove(log.c_str());
      std::string flaky = server.url("/flaky?key=resume-" + mode + std::to_string(keep_order));
      std::vector<std::string> args = {"--mode", mode, "--joblog", log, ":::", server.url("/ok"), flaky};
      if (keep_order) args.insert(args.begin(), "-k");
      auto first = run_pexec(args);
      CHECK(first.status == 1);
      args.insert(args.begin(), "--resume-failed");
      auto second = run_pexec(args);
      CHECK(second.status == 0);
      CHECK(second.out.find(" " + flaky + "\n") != std::string::npos);  // fetched again, now 200
      CHECK(second.out.find(server.url("/ok")) == std::string::npos);   // not fetched again
      std::ifstream file(log);
      std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      CHECK(text.find("\t1\t0\t" + flaky + "\n") != std::string::npos);     // Exitval 1: failed
      CHECK(text.find("\t9\t0\t0\t" + flaky + "\n") != std::string::npos);  // Receive 9, then ok
      std::remove(log.c_str());
    }
  }
}

TEST_CASE("Retry-After is honoured") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto start = std::chrono::steady_clock::now();
    auto j = fetch(mode, {"--retries", "2", ":::", server.url("/retry-after?key=" + mode)}, 0)[0];
    CHECK(seconds_since(start) >= 0.9);
    CHECK(j["status"] == "ok");
    CHECK(j["attempts"] == 2);
  }
}

TEST_CASE("redirects are followed up to --max-redirects, and only to http and https") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto followed = fetch(mode, {":::", server.url("/redirect/3")}, 0)[0];
    CHECK(followed["status"] == "ok");
    CHECK(followed["effective_url"] == server.url("/ok"));
    CHECK(followed["bytes"] == 11);
    auto too_many = fetch(mode, {"--max-redirects", "2", ":::", server.url("/redirect/3")}, 1)[0];
    CHECK(too_many["status"] == "error");
    CHECK(too_many["error"].get<std::string>().find("redirect") != std::string::npos);
    auto to_file = fetch(mode, {":::", server.url("/to-file")}, 1)[0];
    CHECK(to_file["status"] == "error");
    CHECK(to_file["bytes"] == 0);
    CHECK(to_file["error"].get<std::string>().find("file") != std::string::npos);
  }
}

TEST_CASE("--timeout limits the whole transfer") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto start = std::chrono::steady_clock::now();
    auto j = fetch(mode, {"--timeout", "0.5", ":::", server.url("/slow")}, 1)[0];
    CHECK(seconds_since(start) < 4);
    CHECK(j["status"] == "timeout");
  }
}

TEST_CASE("--max-bytes aborts a larger body") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    CHECK(fetch(mode, {":::", server.url("/large")}, 0)[0]["bytes"] == 1000000);
    auto j = fetch(mode, {"--max-bytes", "1000", ":::", server.url("/large")}, 1)[0];
    CHECK(j["status"] == "failed");
    CHECK(j["error"] == "body larger than --max-bytes 1000");
  }
}

TEST_CASE("a connection closed mid-body and a refused connection are errors") {
  HttpTestServer server;
  std::string refused = "http://127.0.0.1:" + std::to_string(HttpTestServer::closed_port()) + "/";
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto lines = fetch(mode, {":::", server.url("/truncated"), refused}, 1);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["status"] == "error");
    CHECK(lines[0]["bytes"] == 10);
    CHECK(lines[1]["status"] == "error");
    CHECK(lines[1]["http_status"].is_null());
    CHECK(lines[1]["error"].get<std::string>().find("onnect") != std::string::npos);
    auto text = run_pexec({"--mode", mode, ":::", refused});
    CHECK(text.out.starts_with("000 0 "));
  }
}

TEST_CASE("--kind: auto mixes shell and URL jobs, url refuses other items and schemes") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto mixed = fetch(mode, {":::", server.url("/ok"), "echo shell"}, 0);
    CHECK(mixed[0]["kind"] == "url");
    CHECK(mixed[1]["kind"] == "shell");
    CHECK(mixed[1]["stdout"] == "shell\n");
    auto strict = fetch(
        mode, {"--kind", "url", ":::", "echo shell", "file:///etc/passwd", "ftp://127.0.0.1/x", server.url("/ok")}, 1);
    CHECK(strict[0]["status"] == "error");
    CHECK(strict[1]["status"] == "error");
    CHECK(strict[2]["status"] == "error");
    CHECK(strict[3]["status"] == "ok");
  }
  CHECK(run_pexec({"--kind", "url", "echo", ":::", "x"}).status == 2);
}

TEST_CASE("first-completed and first-exception stop the other fetches") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto start = std::chrono::steady_clock::now();
    auto first = fetch(
        mode, {"-j", "3", "-w", "first-completed", ":::", server.url("/slow"), server.url("/ok"), server.url("/slow")},
        0);
    CHECK(seconds_since(start) < 4);
    CHECK(stopped_by_pexec(first[0]));
    CHECK(first[1]["status"] == "ok");
    CHECK(stopped_by_pexec(first[2]));
    start = std::chrono::steady_clock::now();
    auto failing =
        fetch(mode, {"-j", "2", "-w", "first-exception", ":::", server.url("/slow"), server.url("/missing")}, 1);
    CHECK(seconds_since(start) < 4);
    CHECK(stopped_by_pexec(failing[0]));
    CHECK(failing[1]["status"] == "failed");
  }
}

TEST_CASE("--deadline stops fetches: exit 124") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_pexec({"--mode", mode, "--deadline", "2.5", ":::", server.url("/slow"), server.url("/ok")});
    CHECK(r.status == 124);
    CHECK(r.err.find("pexec: 1 (of 2) jobs unfinished") != std::string::npos);
  }
}

TEST_CASE("--output-dir saves bodies as SEQ-NAME inside the directory only, and only of jobs that succeeded") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    char dir[] = "/tmp/pexec-out-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::string inside = std::string(dir) + "/inside";
    std::filesystem::create_directory(inside);
    fetch(mode,
          {"--output-dir", inside, ":::", server.url("/ok"), server.url("/files/..%2F..%2Fescape"),
           server.url("/files/a/../../outside"), server.url("/?q=1")},
          1);  // /outside: 404
    std::set<std::string> names;
    for (auto& entry : std::filesystem::directory_iterator(inside)) names.insert(entry.path().filename());
    CHECK(names == std::set<std::string>{"1-ok", "2-.._2F.._2Fescape", "4-index"});
    std::ifstream saved(inside + "/1-ok");
    std::string body((std::istreambuf_iterator<char>(saved)), std::istreambuf_iterator<char>());
    CHECK(body == "hello world");
    CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
    std::filesystem::remove_all(dir);
  }
  CHECK(run_pexec({"--output-dir", "/nonexistent/dir", ":::", server.url("/ok")}).status == 2);
}

TEST_CASE("--method HEAD and -H headers") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto head = fetch(mode, {"--method", "HEAD", ":::", server.url("/ok")}, 0)[0];
    CHECK(head["http_status"] == 200);
    CHECK(head["bytes"] == 0);
    auto header = fetch(mode, {"-H", "X-Pexec-Test: twelve chars", ":::", server.url("/header")}, 0)[0];
    CHECK(header["bytes"] == 12);
  }
}

TEST_CASE("-j N: at most N transfers at once, and all N used") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    HttpTestServer server;  // its 8 threads serve up to 8 requests at once
    std::vector<std::string> args{"-j", "3", ":::"};
    for (int i = 0; i < 12; ++i) args.push_back(server.url("/busy?i=" + std::to_string(i)));
    args.insert(args.begin(), {"--mode", mode, "--format", "jsonl"});
    auto r = run_pexec(args);
    CHECK(r.status == 0);
    CHECK(parse_json_lines(r.out).size() == 12);
    CHECK(server.max_in_flight() == 3);
  }
}

TEST_CASE("each worker reuses its connection between jobs") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    char dir[] = "/tmp/pexec-port-XXXXXX";
    REQUIRE(mkdtemp(dir));
    std::vector<std::string> args{"-j", "1", "--output-dir", dir, ":::"};
    for (int i = 0; i < 10; ++i) args.push_back(server.url("/port"));
    fetch(mode, args, 0);
    std::set<std::string> ports;
    for (auto& entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream file(entry.path());
      std::string port;
      file >> port;
      ports.insert(port);
    }
    CHECK(ports.size() == 1);  // ten requests, one connection
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("process mode: a URL worker process that dies fails only the job it held, the rest run in a new one") {
  HttpTestServer server;
  PexecProcess pexec({"--mode", "process", "-j", "1", "--format", "jsonl", ":::", server.url("/ok"),
                      server.url("/slow"), server.url("/slow"), server.url("/slow")});
  REQUIRE(pexec.wait_for_stdout("\n"));
  auto first = nlohmann::json::parse(pexec.out.substr(0, pexec.out.find('\n')));
  REQUIRE(first["worker"].get<std::string>().starts_with("pid:"));
  kill(std::stoi(first["worker"].get<std::string>().substr(4)), SIGKILL);
  CHECK(pexec.wait(30) == 1);
  auto lines = parse_json_lines(pexec.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[1]["seq"] == 2);  // -j 1: the worker held only the job it was fetching
  CHECK(lines[1]["status"] == "error");
  CHECK(lines[1]["error"] == "the URL worker process exited unexpectedly");
  for (std::size_t i = 2; i < lines.size(); ++i) {
    CHECK(lines[i]["status"] == "ok");
    CHECK(lines[i]["worker"] != first["worker"]);
  }
}

TEST_CASE("process mode: jobs and results that fill both pipes at once all arrive") {
  // -j 1000 and URLs of 1 KB: the first 1000 jobs go to the one URL worker at once, and their
  // refused connections' results (each as long) come back in batches far past a pipe's 64 KiB;
  // the jobs sent as those results free slots then fill the pipe to the worker while it is
  // still writing its batch.
  std::string refused =
      "http://127.0.0.1:" + std::to_string(HttpTestServer::closed_port()) + "/" + std::string(1000, 'a') + "?i=";
  std::string list;
  for (int i = 1; i <= 3000; ++i) list += refused + std::to_string(i) + "\n";
  std::string path = temp_file(list);
  PexecProcess pexec({"--mode", "process", "-j", "1000", "--format", "jsonl", "-a", path});
  CHECK(pexec.wait(120) == 1);
  std::remove(path.c_str());
  CHECK_FALSE(pexec.timed_out);
  auto lines = parse_json_lines(pexec.out);
  REQUIRE(lines.size() == 3000);
  std::set<std::uint64_t> seqs;
  for (const auto& line : lines) {
    seqs.insert(line["seq"].get<std::uint64_t>());
    CHECK(line["status"] == "error");
  }
  CHECK(seqs.size() == 3000);
}

TEST_CASE("http_proxy in the environment is honoured, as curl does") {
  HttpTestServer server;
  std::string proxy = "http://127.0.0.1:" + std::to_string(HttpTestServer::closed_port());
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    setenv("http_proxy", proxy.c_str(), 1);
    auto through_proxy = run_pexec({"--mode", mode, "--format", "jsonl", ":::", server.url("/ok")});
    unsetenv("http_proxy");
    CHECK(through_proxy.status == 1);
    CHECK(parse_json_lines(through_proxy.out)[0]["status"] == "error");  // the proxy refuses
    CHECK(run_pexec({"--mode", mode, ":::", server.url("/ok")}).status == 0);
  }
}

TEST_CASE("--let-running-finish lets running fetches end and cancels the queued ones") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto jobs = fetch(mode,
                      {"-j", "2", "-w", "first-exception", "--let-running-finish", ":::", server.url("/busy?1"),
                       server.url("/missing"), server.url("/busy?3"), server.url("/busy?4")},
                      1);
    REQUIRE(jobs.size() == 4);
    // Nothing is killed: what ran finished ("ok"). Job 1 may not have started yet (its worker
    // process still starting) and job 3 may take /missing's slot before the stop: both are ok or
    // cancelled. Job 4 waits for a slot that frees only after the stop.
    CHECK((jobs[0]["status"] == "ok" || jobs[0]["status"] == "cancelled"));
    CHECK(jobs[1]["status"] == "failed");
    CHECK((jobs[2]["status"] == "ok" || jobs[2]["status"] == "cancelled"));
    CHECK(jobs[3]["status"] == "cancelled");
  }
}

TEST_CASE("a slow URL does not hold back the jobs after it while a transfer slot is free") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::vector<std::string> args{"--mode", mode,        "--format", "jsonl", "-j",
                                  "2",      "--timeout", "1",        ":::",   server.url("/slow")};
    for (int i = 0; i < 6; ++i) args.push_back(server.url("/ok?" + std::to_string(i)));
    auto r = run_pexec(args);
    CHECK(r.status == 1);
    auto lines = parse_json_lines(r.out);
    REQUIRE(lines.size() == 7);
    for (int i = 0; i < 6; ++i) CHECK(lines[i]["status"] == "ok");  // all reported before the slow one ends
    CHECK(lines[6]["seq"] == 1);
    CHECK(lines[6]["status"] == "timeout");
  }
}

TEST_CASE("libcurl is loaded by the first URL job only: a shell-only run never maps it") {
  // A thread-mode shell job's parent is pexec itself: it reads pexec's memory map.
  const std::string count_curl = "grep -c 'libcurl\\.so' /proc/$PPID/maps || true";
  auto shell_only = run_pexec({"--mode", "thread", "-j", "1", count_curl, ":::", "x"});
  CHECK(shell_only.status == 0);
  CHECK(shell_only.out == "0\n");
  // With -j 1, the shell job starts after the URL job has been fetched.
  HttpTestServer server;
  auto mixed = fetch("thread", {"-j", "1", ":::", server.url("/ok"), count_curl}, 0);
  REQUIRE(mixed.size() == 2);
  CHECK(mixed[0]["status"] == "ok");
  CHECK(mixed[1]["stdout"] != "0\n");
  CHECK(std::stoi(mixed[1]["stdout"].get<std::string>()) >= 1);
}
