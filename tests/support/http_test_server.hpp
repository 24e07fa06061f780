#pragma once
// An HTTP server on 127.0.0.1 (an ephemeral port) for URL job tests, with one endpoint per case.
// Test code only; every wait in it is bounded.

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>

class HttpTestServer {
 public:
  HttpTestServer() {
    server_.Get("/ok",
                [](const httplib::Request&, httplib::Response& res) { res.set_content("hello world", "text/plain"); });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("nope", "text/plain");
    });
    // 500 on the first request of each ?key=, 200 afterwards.
    server_.Get("/flaky", [this](const httplib::Request& req, httplib::Response& res) {
      if (first_time(req.get_param_value("key"))) {
        res.status = 500;
      } else {
        res.set_content("recovered", "text/plain");
      }
    });
    // 503 with Retry-After: 1 on the first request of each ?key=, 200 afterwards.
    server_.Get("/retry-after", [this](const httplib::Request& req, httplib::Response& res) {
      if (first_time(req.get_param_value("key"))) {
        res.status = 503;
        res.set_header("Retry-After", "1");
      } else {
        res.set_content("later", "text/plain");
      }
    });
    server_.Get(R"(/redirect/(\d+))", [](const httplib::Request& req, httplib::Response& res) {
      int n = std::stoi(req.matches[1]);
      res.set_redirect(n == 0 ? "/ok" : "/redirect/" + std::to_string(n - 1));
    });
    server_.Get("/to-file",
                [](const httplib::Request&, httplib::Response& res) { res.set_redirect("file:///etc/passwd"); });
    // Answers after 5 s, or as soon as the server stops.
    server_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      for (int i = 0; i < 50 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      res.set_content("finally", "text/plain");
    });
    // Answers after 100 ms, counting how many requests it serves at once.
    server_.Get("/busy", [this](const httplib::Request&, httplib::Response& res) {
      int now = ++in_flight_;
      for (int seen = max_in_flight_; now > seen && !max_in_flight_.compare_exchange_weak(seen, now);) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      --in_flight_;
      res.set_content("done", "text/plain");
    });
    server_.Get("/large", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(1000000, 'x'), "application/octet-stream");
    });
    // Promises 1000 bytes, sends 10, then closes the connection.
    server_.Get("/truncated", [](const httplib::Request&, httplib::Response& res) {
      res.set_content_provider(1000, "text/plain", [](std::size_t offset, std::size_t, httplib::DataSink& sink) {
        if (offset == 0) sink.write("0123456789", 10);
        return offset == 0;
      });
    });
    server_.Get("/header", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("X-Pexec-Test"), "text/plain");
    });
    // The client's port: equal across requests when the connection is reused.
    server_.Get("/port", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::to_string(req.remote_port), "text/plain");
    });
    server_.set_keep_alive_max_count(1000);  // the default (5) would close reused connections early
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // cpp-httplib 0.11 has no wait_until_ready(): poll is_running(), bounded.
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~HttpTestServer() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int port() const { return port_; }
  /// The most /busy requests served at the same time so far.
  int max_in_flight() const { return max_in_flight_; }

  /// A loopback port nothing listens on (connections are refused).
  static int closed_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
  }

 private:
  bool first_time(const std::string& key) {
    std::lock_guard lock(mutex_);
    return seen_[key]++ == 0;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::mutex mutex_;
  std::map<std::string, int> seen_;
};
