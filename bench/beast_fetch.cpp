// A floor for URL jobs over plain http: Boost.Beast fetching the URLs on standard input (all on
// one host, http://HOST:PORT/...) over N keep-alive connections driven by one thread, as one
// pexec loop drives its transfers; bodies are read and dropped. Exit 1 unless every answer was
// a 200. Built and run by bench/url-jobs.sh (FLOORS=yes) to measure whether Beast's cost per
// request is below libcurl's before proposing it (issue 14); not part of pexec.
//   beast_fetch N [CAFILE, unused: http only] < urls
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Run {
  std::vector<std::string> targets;
  std::size_t next = 0;
  std::size_t ok = 0, failed = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Run& run, std::string host) : socket_(io), run_(run), host_(std::move(host)) {}
  void start(const tcp::resolver::results_type& where) {
    asio::async_connect(socket_, where, [self = shared_from_this()](auto error, auto) {
      if (error) return self->fail();
      self->socket_.set_option(tcp::no_delay(true));
      self->fetch_next();
    });
  }

 private:
  void fetch_next() {
    if (run_.next == run_.targets.size()) return;
    request_ = {http::verb::get, run_.targets[run_.next++], 11};
    request_.set(http::field::host, host_);
    request_.set(http::field::user_agent, "beast-floor");
    http::async_write(socket_, request_, [self = shared_from_this()](auto error, std::size_t) {
      if (error) return self->fail();
      self->response_ = {};
      http::async_read(self->socket_, self->buffer_, self->response_, [self](auto error, std::size_t) {
        if (error) return self->fail();
        (self->response_.result_int() == 200 ? self->run_.ok : self->run_.failed)++;
        self->fetch_next();
      });
    });
  }
  void fail() { ++run_.failed; }

  tcp::socket socket_;
  Run& run_;
  std::string host_;
  boost::beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

int main(int argc, char** argv) {
  int connections = argc > 1 ? std::atoi(argv[1]) : 8;
  Run run;
  std::string host_port;
  for (std::string line; std::getline(std::cin, line);) {
    if (line.rfind("http://", 0) != 0) {
      std::fprintf(stderr, "beast_fetch: only http:// URLs: %s\n", line.c_str());
      return 2;
    }
    std::size_t slash = line.find('/', 7);
    host_port = line.substr(7, slash - 7);
    run.targets.push_back(slash == std::string::npos ? "/" : line.substr(slash));
  }
  if (run.targets.empty()) return 0;
  std::size_t colon = host_port.rfind(':');
  asio::io_context io(1);
  tcp::resolver resolver(io);
  auto where = resolver.resolve(host_port.substr(0, colon), colon == std::string::npos ? "80" : host_port.substr(colon + 1));
  for (int i = 0; i < connections; ++i) std::make_shared<Connection>(io, run, host_port)->start(where);
  io.run();
  std::fprintf(stderr, "beast_fetch: %zu ok, %zu failed of %zu\n", run.ok, run.failed, run.targets.size());
  return run.ok == run.targets.size() ? 0 : 1;
}
