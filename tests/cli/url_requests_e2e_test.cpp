// URL jobs aimed at real services, end to end in both modes: request bodies and methods as the
// server receives them, TLS against an https server with a CA of the test's own, per-host limits,
// --rate, Retry-After across a host's jobs, where bodies go (-O, --skip-existing,
// --stdout-body), and input hygiene. Servers listen on 127.0.0.1 only.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_test_server.hpp"
#include "pexec_process.hpp"
#include "shell_output.hpp"
#include "url_fetch.hpp"

namespace fs = std::filesystem;

namespace {

/// A fresh folder under /tmp, removed with what it holds.
struct TempFolder {
  std::string path;
  TempFolder() {
    char name[] = "/tmp/pexec-url-XXXXXX";
    REQUIRE(mkdtemp(name));
    path = name;
  }
  ~TempFolder() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

/// The certificates of tests/fixtures/test_ca.sh, made once for the whole test program.
const std::string& certificates() {
  static TempFolder folder;
  static bool made = [] {
    auto [out, status] = shell_output("bash " PEXEC_FIXTURES "/test_ca.sh " + folder.path + " 2>&1");
    INFO(out);
    REQUIRE(status == 0);
    return true;
  }();
  (void)made;
  return folder.path;
}

/// Runs pexec in text mode; its stdout.
PexecRun run_text(const std::string& mode, std::vector<std::string> args, const std::string& input = "") {
  args.insert(args.begin(), {"--mode", mode});
  return run_pexec(args, input);
}

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A job's "start" (RFC 3339, UTC, milliseconds) in Unix milliseconds.
std::int64_t start_ms(const nlohmann::json& job) {
  std::string text = job["start"];
  std::tm tm{};
  std::istringstream in(text.substr(0, 19));
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + std::stoi(text.substr(20, 3));
}

}  // namespace

TEST_CASE("--data, --json and --data-file send each job's own body, and --method sends any method") {
  HttpTestServer server;
  TempFolder folder;
  std::string binary("a\0b\r\n\xff", 6);
  write_file(folder / "body-1.bin", binary);
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::string url = server.url("/echo");
    auto r = run_text(mode, {"-k", "--stdout-body", "--data", "n={#}&u={}", ":::", url, url});
    CHECK(r.status == 0);
    CHECK(r.out ==
          "POST\nContent-Type: application/x-www-form-urlencoded\nAccept: */*\nUser-Agent: pexec/" PEXEC_VERSION
          "\nAuthorization: \nX-Job: \n\nn=1&u=" +
              url +
              "POST\nContent-Type: application/x-www-form-urlencoded\n"
              "Accept: */*\nUser-Agent: pexec/" PEXEC_VERSION "\nAuthorization: \nX-Job: \n\nn=2&u=" +
              url);

    r = run_text(mode, {"--stdout-body", "--json", R"({"id": {#}})", ":::", url});
    CHECK(r.out.starts_with("POST\nContent-Type: application/json\nAccept: application/json\n"));
    CHECK(r.out.ends_with("\n\n{\"id\": 1}"));

    // The file's bytes as they are; job 2's file is missing: that job is an error, job 1 ran.
    auto jobs = fetch(mode, {"--stdout-body", "--data-file", folder / "body-{#}.bin", ":::", url, url}, 1);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0]["status"] == "ok");
    CHECK(std::string(jobs[0]["body"]).ends_with(std::string("\n\na\0b\r\n\xef\xbf\xbd", 10)));  // \xff: U+FFFD
    CHECK(jobs[1]["status"] == "error");
    CHECK(jobs[1]["error"] == "cannot read --data-file " + folder / "body-2.bin" + ": No such file or directory");

    for (std::string method : {"PUT", "patch", "DELETE", "OPTIONS"}) {
      std::vector<std::string> args{"--stdout-body", "--method", method};
      if (method == "PUT" || method == "patch") args.insert(args.end(), {"--data", "x{#}"});
      args.insert(args.end(), {":::", url});
      r = run_text(mode, args);
      CHECK(r.status == 0);
      std::string upper = method == "patch" ? "PATCH" : method;
      CHECK(r.out.starts_with(upper + "\n"));
      CHECK(r.out.ends_with(args[3] == "--data" ? "\n\nx1" : "\n\n"));
    }
  }
  CHECK(run_pexec({"--method", "GE T", ":::", server.url("/echo")}).status == 2);
  CHECK(run_pexec({"--method", "HEAD", "--data", "x", ":::", server.url("/echo")}).status == 2);
  CHECK(run_pexec({"--data", "x", "--json", "{}", ":::", server.url("/echo")}).status == 2);
  CHECK(run_pexec({"--data", "x", "echo", ":::", "a"}).err ==
        "pexec: --data applies to URL jobs only, and a COMMAND makes every job a shell job\n");
}

TEST_CASE("--user, --user-agent and -H with replacement strings reach the server") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_text(mode, {"-k", "--stdout-body", "--user", "alice:s3cret", "--user-agent", "probe/{#}", "-H",
                             "X-Job: job {#} of {/}", ":::", server.url("/echo"), server.url("/echo")});
    CHECK(r.status == 0);
    // alice:s3cret in base64; --user-agent is the same for every job (it is no template).
    std::string head =
        "GET\nContent-Type: \nAccept: */*\nUser-Agent: probe/{#}\nAuthorization: Basic YWxpY2U6czNjcmV0\n";
    CHECK(r.out == head + "X-Job: job 1 of echo\n\n" + head + "X-Job: job 2 of echo\n\n");
  }
  // curl's and wget2's spellings get pexec's.
  CHECK(run_pexec({"--retry", "3", ":::", server.url("/echo")}).err ==
        "pexec: --retry is --retries N+1 in pexec (the runs in all)\n");
  CHECK(run_pexec({"--ca-certificate=ca.pem", ":::", server.url("/echo")}).err ==
        "pexec: --ca-certificate is --cacert in pexec\n");
  CHECK(run_pexec({"--user", "alice", ":::", server.url("/echo")}).err ==
        "pexec: --user takes NAME:PASSWORD (pexec never prompts for a password)\n");
}

TEST_CASE("--stdout-body: the body is the job's output in text, and in jsonl UTF-8 text or base64") {
  HttpTestServer server;
  TempFolder folder;
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  write_file(folder / "bytes", bytes);
  auto [expected_base64, status] = shell_output("base64 -w0 " + folder / "bytes");
  REQUIRE(status == 0);
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    auto r = run_text(mode, {"-k", "--tag", "--stdout-body", ":::", server.url("/ok"), server.url("/missing")});
    CHECK(r.status == 1);
    CHECK(r.out == server.url("/ok") + "\thello world" + server.url("/missing") + "\tnope");
    CHECK(r.err.starts_with("pexec: job 2 failed (HTTP 404): " + server.url("/missing") + "\n"));

    auto jobs = fetch(mode, {"--stdout-body", ":::", server.url("/ok"), server.url("/binary")}, 0);
    REQUIRE(jobs.size() == 2);
    CHECK(jobs[0]["body_encoding"] == "utf-8");
    CHECK(jobs[0]["body"] == "hello world");
    CHECK(jobs[1]["body_encoding"] == "base64");
    CHECK(jobs[1]["body"] == expected_base64);
    CHECK(jobs[1]["bytes"] == 256);
  }
  // Without --stdout-body there is no body field.
  CHECK_FALSE(fetch("thread", {":::", server.url("/ok")}, 0)[0].contains("body"));
}

TEST_CASE("https: the system's CAs by default, --cacert, --insecure, and client certificates") {
  const std::string& tls = certificates();
  TlsServerFiles files{tls + "/server.pem", tls + "/server.key", ""};
  HttpTestServer server(&files);
  TlsServerFiles strict_files{tls + "/server.pem", tls + "/server.key", tls + "/ca.pem"};
  HttpTestServer strict(&strict_files);
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    // The test's CA is in no system store: the job fails, saying why in one line.
    auto jobs = fetch(mode, {":::", server.url("/ok")}, 1);
    CHECK(jobs[0]["status"] == "error");
    CHECK(std::string(jobs[0]["error"]).find("certificate") != std::string::npos);
    CHECK(std::string(jobs[0]["error"]).find('\n') == std::string::npos);

    jobs = fetch(mode, {"--cacert", tls + "/ca.pem", ":::", server.url("/ok")}, 0);
    CHECK(jobs[0]["status"] == "ok");
    CHECK(jobs[0]["bytes"] == 11);
    CHECK(fetch(mode, {"--insecure", ":::", server.url("/ok")}, 0)[0]["status"] == "ok");

    // The strict server asks for a client certificate its CA signed.
    jobs = fetch(mode, {"--cacert", tls + "/ca.pem", ":::", strict.url("/ok")}, 1);
    CHECK(jobs[0]["status"] == "error");
    jobs = fetch(mode,
                 {"--cacert", tls + "/ca.pem", "--cert", tls + "/client.pem", "--key", tls + "/client.key",
                  ":::", strict.url("/ok")},
                 0);
    CHECK(jobs[0]["status"] == "ok");
    CHECK(jobs[0]["http_version"] == "1.1");  // cpp-httplib offers no HTTP/2
  }
  CHECK(run_pexec({"--cacert", "/nonexistent.pem", ":::", server.url("/ok")}).err ==
        "pexec: cannot read /nonexistent.pem: No such file or directory\n");
  CHECK(run_pexec({"--key", tls + "/client.key", ":::", server.url("/ok")}).status == 2);
}

TEST_CASE("--max-per-host N: never more transfers to one host at once, while other hosts go on") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    HttpTestServer a, b;  // two ports: two hosts
    std::vector<std::string> args{"-j", "6", "--max-per-host", "2", ":::"};
    for (int i = 0; i < 8; ++i) {
      args.push_back(a.url("/busy?i=" + std::to_string(i)));
      args.push_back(b.url("/busy?i=" + std::to_string(i)));
    }
    auto jobs = fetch(mode, args, 0);
    CHECK(jobs.size() == 16);
    CHECK(a.max_in_flight() == 2);
    CHECK(b.max_in_flight() == 2);
  }
}

TEST_CASE("--rate N/s spaces job starts: at least 1/N s apart, and the run is not held longer") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::vector<std::string> args{"-j", "6", "--rate", "10/s", ":::"};
    for (int i = 0; i < 6; ++i) args.push_back(server.url("/ok?i=" + std::to_string(i)));
    auto start = std::chrono::steady_clock::now();
    auto jobs = fetch(mode, args, 0);
    double took = seconds_since(start);
    CHECK(took >= 0.5);
    CHECK(took < 5);
    REQUIRE(jobs.size() == 6);
    std::vector<std::int64_t> starts;
    for (const auto& job : jobs) starts.push_back(start_ms(job));
    std::sort(starts.begin(), starts.end());
    // 100 ms apart (the loop spaces its starts, even when a worker process still starting got
    // several jobs at once), less a millisecond of rounding.
    for (std::size_t i = 1; i < starts.size(); ++i) CHECK(starts[i] - starts[i - 1] >= 98);
    CHECK(starts.back() - starts.front() >= 450);
    // 120 a minute is 2 a second.
    start = std::chrono::steady_clock::now();
    fetch(mode, {"--rate", "120/m", ":::", server.url("/ok"), server.url("/ok"), server.url("/ok")}, 0);
    CHECK(seconds_since(start) >= 0.95);
  }
  // Shell jobs too.
  auto start = std::chrono::steady_clock::now();
  CHECK(run_pexec({"-j", "3", "--rate", "5", "true", ":::", "1", "2", "3"}).status == 0);
  CHECK(seconds_since(start) >= 0.38);
  for (std::string bad : {"0", "5/d", "x/s", "-1/s"}) {
    CAPTURE(bad);
    auto r = run_pexec({"--rate", bad, "true", ":::", "1"});
    CHECK(r.status == 2);
    CHECK(r.err == "pexec: --rate: '" + bad + "' is not N/s, N/m or N/h with N above 0\n");
  }
}

TEST_CASE("Retry-After of a 429 holds back the other jobs for that host, not the jobs for others") {
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    HttpTestServer server, other;
    std::int64_t launched = unix_ms_now();
    // Job 1 gets the 429 while job 2 (another host) is busy for 100 ms; job 3 takes job 1's slot
    // and waits for the host's Retry-After; job 4 takes job 2's slot and runs at once.
    auto jobs = fetch(mode,
                      {"-j", "2", "--retries", "2", ":::", server.url("/limited"), other.url("/busy"),
                       server.url("/ok"), other.url("/ok")},
                      0);
    REQUIRE(jobs.size() == 4);
    CHECK(jobs[0]["attempts"] == 2);
    CHECK(start_ms(jobs[2]) - launched >= 1800);  // Retry-After: 2
    CHECK(start_ms(jobs[3]) - launched < 1800);   // another host: not held
    for (const auto& job : jobs) CHECK(job["status"] == "ok");
  }
}

TEST_CASE("-O TEMPLATE names files under --output-dir only, with --create-dirs and --skip-existing") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    TempFolder folder;
    std::string out = folder / "out";
    fs::create_directory(folder / "elsewhere");
    // Made by --create-dirs, with the folders -O names.
    auto jobs = fetch(mode,
                      {"--output-dir", out, "--create-dirs", "-O", "{#}/page-{/}.txt", ":::", server.url("/ok"),
                       server.url("/files/x")},
                      0);
    CHECK(read_file(out + "/1/page-ok.txt") == "hello world");
    CHECK(read_file(out + "/2/page-x.txt") == "/files/x");

    // A name that would leave the folder: the job is an error and nothing is written.
    fs::create_directory_symlink(folder / "elsewhere", out + "/link");
    jobs = fetch(mode, {"--output-dir", out, "-O", "{}", ":::", server.url("/ok")}, 1);
    CHECK(jobs[0]["status"] == "error");  // {} is the URL: http: then //
    jobs = fetch(mode, {"--output-dir", out, "-O", "../{/}", ":::", server.url("/ok")}, 1);
    CHECK(jobs[0]["error"] == "-O: '../ok' has a .. component: it must name a file under " + out);
    jobs = fetch(mode, {"--output-dir", out, "-O", "link/{/}", ":::", server.url("/ok")}, 1);
    CHECK(jobs[0]["status"] == "error");
    CHECK(std::string(jobs[0]["error"]).ends_with("it leads out of the folder"));
    CHECK(fs::is_empty(folder / "elsewhere"));

    // Two jobs saving to one name: each writes a file of its own until it succeeds, so the name
    // holds one whole body, and nothing else is left.
    fs::create_directory(out + "/same");
    fetch(mode, {"--output-dir", out + "/same", "-O", "one", ":::", server.url("/files/a"), server.url("/files/b")}, 0);
    std::string body = read_file(out + "/same/one");
    CHECK((body == "/files/a" || body == "/files/b"));
    CHECK(std::distance(fs::directory_iterator(out + "/same"), fs::directory_iterator()) == 1);

    // --skip-existing: an existing file is kept as it is and nothing is fetched.
    write_file(out + "/kept", "old");
    jobs = fetch(mode,
                 {"--output-dir", out, "--skip-existing", "-O", "{/}", ":::", server.url("/files/kept"),
                  server.url("/files/new")},
                 0);
    CHECK(jobs[0]["skipped"] == true);
    CHECK(jobs[0]["http_status"].is_null());
    CHECK_FALSE(jobs[1].contains("skipped"));
    CHECK(read_file(out + "/kept") == "old");
    CHECK(read_file(out + "/new") == "/files/new");
    auto r = run_text(mode, {"--output-dir", out, "--skip-existing", "-O", "{/}", ":::", server.url("/files/kept")});
    CHECK(r.out.starts_with("--- 0 "));
  }
  CHECK(run_pexec({"--skip-existing", ":::", server.url("/ok")}).status == 2);
  CHECK(run_pexec({"--create-dirs", ":::", server.url("/ok")}).err ==
        "pexec: --create-dirs needs -O or --output-dir: there is no folder to make\n");
  CHECK(run_pexec({"-O", "/etc/x", ":::", server.url("/ok")}).status == 2);
  CHECK(run_pexec({"--stdout-body", "-O", "x", ":::", server.url("/ok")}).status == 2);
}

TEST_CASE("URL lists with CRLF and blanks around each URL, and a URL that does not parse is an error job") {
  HttpTestServer server;
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::string list = "  " + server.url("/ok") + " \r\n" + server.url("/files/a") + "\r\n" +
                       "http://127.0.0.1:99999/port-too-large\r\nhttps://exa mple.com/\r\n";
    auto jobs = fetch(mode, {}, 1, list);
    REQUIRE(jobs.size() == 4);
    CHECK(jobs[0]["url"] == server.url("/ok"));
    CHECK(jobs[0]["status"] == "ok");
    CHECK(jobs[1]["url"] == server.url("/files/a"));
    CHECK(jobs[1]["bytes"] == 8);
    for (int i : {2, 3}) {
      CHECK(jobs[i]["kind"] == "url");
      CHECK(jobs[i]["status"] == "error");
      CHECK(std::string(jobs[i]["error"]).starts_with("not a valid URL: "));
    }
  }
}

namespace {

/// nginx serving https with HTTP/2 on 127.0.0.1 from a folder of its own, with the test's CA;
/// its access log says, per request, the connection and the protocol. Stopped by PID.
class Http2Server {
 public:
  Http2Server() : port_(HttpTestServer::closed_port()) {
    const std::string& tls = certificates();
    ::chmod(folder_.path.c_str(), 0755);  // nginx's workers run as nobody when pexec's tests run as root
    fs::create_directories(folder_ / "www");
    write_file(folder_ / "www/page", std::string(1024, 'x'));
    fs::permissions(folder_ / "www/page", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    write_file(folder_ / "nginx.conf",
               "worker_processes 1;\npid nginx.pid;\nerror_log error.log warn;\nevents { worker_connections 256; }\n"
               "http {\n  log_format request '$connection $server_protocol $status';\n"
               "  access_log access.log request;\n  client_body_temp_path tmp;\n  proxy_temp_path tmp;\n"
               "  fastcgi_temp_path tmp;\n  uwsgi_temp_path tmp;\n  scgi_temp_path tmp;\n"
               "  server {\n    listen 127.0.0.1:" +
                   std::to_string(port_) + " ssl http2;\n    ssl_certificate " + tls +
                   "/server.pem;\n    ssl_certificate_key " + tls + "/server.key;\n    root www;\n  }\n}\n");
    std::string conf = folder_ / "nginx.conf", log = folder_ / "start.log";
    std::vector<std::string> argv{"nginx", "-p", folder_.path, "-c", conf, "-g", "daemon off;"};
    std::vector<char*> pointers;
    for (std::string& word : argv) pointers.push_back(word.data());
    pointers.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawnp(&pid_, "nginx", &actions, nullptr, pointers.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 100 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~Http2Server() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);  // nginx's fast shutdown
    ::waitpid(pid_, nullptr, 0);
  }
  bool ready() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
  }
  std::string url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(port_) + path; }
  /// The access log's lines so far ("CONNECTION PROTOCOL STATUS"); emptied.
  std::vector<std::string> take_log() {
    std::vector<std::string> lines;
    std::istringstream log(read_file(folder_ / "access.log"));
    for (std::string line; std::getline(log, line);) lines.push_back(line);
    std::ofstream(folder_ / "access.log", std::ios::trunc);
    return lines;
  }
  std::string start_log() const { return read_file(folder_ / "start.log"); }

 private:
  TempFolder folder_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("https with HTTP/2: transfers to one host share a connection per loop, and --http1.1 turns it off") {
  if (shell_output("command -v nginx").second != 0) {
    MESSAGE("skipped: nginx is not installed (.ci/install-deps installs nginx-light)");
    return;
  }
  Http2Server server;
  INFO(server.start_log());
  REQUIRE(server.ready());
  const std::string ca = certificates() + "/ca.pem";
  for (const auto& mode : kModes) {
    CAPTURE(mode);
    std::vector<std::string> args{"-j", "8", "--cacert", ca, ":::"};
    for (int i = 0; i < 40; ++i) args.push_back(server.url("/page?i=" + std::to_string(i)));
    auto jobs = fetch(mode, args, 0);
    REQUIRE(jobs.size() == 40);
    std::set<std::string> loops;
    for (const auto& job : jobs) {
      CHECK(job["http_version"] == "2");
      CHECK(job["bytes"] == 1024);
      loops.insert(job["worker"]);
    }
    std::set<std::string> connections;
    for (const std::string& line : server.take_log()) {
      CHECK(line.ends_with(" HTTP/2.0 200"));
      connections.insert(line.substr(0, line.find(' ')));
    }
    // Eight at once, yet one connection per loop: the transfers were HTTP/2 streams.
    CHECK(connections.size() <= loops.size());

    args.insert(args.begin(), "--http1.1");
    jobs = fetch(mode, args, 0);
    for (const auto& job : jobs) CHECK(job["http_version"] == "1.1");
    for (const std::string& line : server.take_log()) CHECK(line.ends_with(" HTTP/1.1 200"));
  }
}
