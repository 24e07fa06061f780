// A job's output: bounded memory, the rest on disk, read back whole; JSON escaping in pieces.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <random>
#include <string>

#include "captured_output.hpp"

using namespace pexec::cli;

TEST_CASE("past the memory limit the output goes to a file and comes back byte for byte") {
  std::string expected;
  CapturedOutput output;
  for (int i = 0; expected.size() < 3 * CapturedOutput::kMemoryLimit; ++i) {
    std::string piece = std::to_string(i) + "\n";
    expected += piece;
    REQUIRE(output.append(piece));
  }
  CHECK(output.spilled());
  CHECK(output.head().size() == CapturedOutput::kMemoryLimit);
  CHECK(output.size() == expected.size());
  CHECK(output == expected);
  CapturedOutput copy = output;  // copies share the file
  CHECK(copy.to_string() == expected);
}

TEST_CASE("a spill that cannot be written drops the rest and says why") {
  setenv("TMPDIR", "/nonexistent-dir", 1);
  CapturedOutput output;
  CHECK(output.append(std::string(CapturedOutput::kMemoryLimit, 'x')));
  CHECK_FALSE(output.append("more"));
  CHECK(output.error().find("/nonexistent-dir") != std::string::npos);
  CHECK(output.size() == CapturedOutput::kMemoryLimit);
  unsetenv("TMPDIR");
}

TEST_CASE("JSON escaping in pieces is nlohmann's dump with replace, wherever the pieces split") {
  std::mt19937 random(42);
  const std::string interesting = "a\"\\\n\t\x01\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80\xc0\xff\xf4\x90";
  for (int round = 0; round < 2000; ++round) {
    std::string bytes;
    std::size_t length = random() % 40;
    for (std::size_t i = 0; i < length; ++i) {
      bytes += random() % 2 ? interesting[random() % interesting.size()] : static_cast<char>(random() % 256);
    }
    std::string expected = nlohmann::json(bytes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    JsonStringEscaper escaper;
    std::string escaped = "\"";
    std::size_t at = 0;
    while (at < bytes.size()) {
      std::size_t take = 1 + random() % 5;
      escaper.feed(std::string_view(bytes).substr(at, take), escaped);
      at += take;
    }
    escaper.finish(escaped);
    escaped += "\"";
    CAPTURE(bytes);
    REQUIRE(escaped == expected);
  }
}
