#pragma once
// An HTTP server on 127.0.0.1 (an ephemeral port) for URL job tests, with one endpoint per case;
// or an https one, given a certificate (tests/fixtures/test_ca.sh makes them) and, to require
// client certificates, the CA that signs them. Test code only; every wait in it is bounded.

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

/// The files of an https HttpTestServer.
struct TlsServerFiles {
  std::string certificate, key;
  std::string client_ca;  // not empty: every client must present a certificate it signed
};

class HttpTestServer {
 public:
  explicit HttpTestServer(const TlsServerFiles* tls = nullptr)
      : owned_(tls ? std::make_unique<httplib::SSLServer>(tls->certificate.c_str(), tls->key.c_str(),
                                                          tls->client_ca.empty() ? nullptr : tls->client_ca.c_str())
                   : std::make_unique<httplib::Server>()),
        server_(*owned_),
        scheme_(tls ? "https" : "http") {
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
    // 200 for any path under /files/ and for /, the path as the body.
    server_.Get(R"(/|/files/.*)",
                [](const httplib::Request& req, httplib::Response& res) { res.set_content(req.path, "text/plain"); });
    // Any method: the request as the server saw it, one line per part, then the body.
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      std::string text = req.method + "\n";
      for (const char* name : {"Content-Type", "Accept", "User-Agent", "Authorization", "X-Job"})
        text += std::string(name) + ": " + req.get_header_value(name) + "\n";
      res.set_content(text + "\n" + req.body, "text/plain; charset=utf-8");
    };
    server_.Get("/echo", echo);
    server_.Post("/echo", echo);
    server_.Put("/echo", echo);
    server_.Patch("/echo", echo);
    server_.Delete("/echo", echo);
    server_.Options("/echo", echo);
    // Every byte value once, as a body with no text type.
    server_.Get("/binary", [](const httplib::Request&, httplib::Response& res) {
      std::string bytes;
      for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
      res.set_content(bytes, "application/octet-stream");
    });
    // 429 with Retry-After: 2 for the first request of the server's life, 200 afterwards.
    server_.Get("/limited", [this](const httplib::Request&, httplib::Response& res) {
      if (first_time("/limited")) {
        res.status = 429;
        res.set_header("Retry-After", "2");
      } else {
        res.set_content("welcome back", "text/plain");
      }
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
  std::string url(const std::string& path) const { return scheme_ + "://127.0.0.1:" + std::to_string(port_) + path; }
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

  std::unique_ptr<httplib::Server> owned_;
  httplib::Server& server_;
  std::string scheme_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::mutex mutex_;
  std::map<std::string, int> seen_;
};
