#pragma once
// The wire format between a ProcessPoolExecutor and its workers: each message is a JSON value
// encoded as CBOR (which, unlike JSON text, carries any bytes in strings) behind a 4-byte length.

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pexec/detail/write_all.hpp"

namespace pexec::detail {

inline std::string encode_frame(const nlohmann::json& message) {
  std::vector<std::uint8_t> body = nlohmann::json::to_cbor(message);
  auto size = static_cast<std::uint32_t>(body.size());
  std::string frame(sizeof size + body.size(), '\0');
  std::memcpy(frame.data(), &size, sizeof size);
  std::memcpy(frame.data() + sizeof size, body.data(), body.size());
  return frame;
}

/// Takes one complete frame off the front of `buffer`, if there is one.
inline std::optional<nlohmann::json> take_frame(std::string& buffer) {
  std::uint32_t size = 0;
  if (buffer.size() < sizeof size) return std::nullopt;
  std::memcpy(&size, buffer.data(), sizeof size);
  if (buffer.size() < sizeof size + size) return std::nullopt;
  auto begin = buffer.begin() + sizeof size;
  nlohmann::json message = nlohmann::json::from_cbor(begin, begin + size);
  buffer.erase(0, sizeof size + size);
  return message;
}

/// How much read_frames() reads at most at once: fewer bytes read from a pipe means it is empty.
inline constexpr std::size_t kFramesReadSize = 65536;

/// Reads once from `fd` (blocking or not, as the fd is; EINTR retried) and moves every frame
/// now complete into `frames`. Returns read(2)'s result: bytes read, 0 at end of file, or -1
/// with errno set (EAGAIN: nothing there yet).
inline ssize_t read_frames(int fd, std::string& buffer, std::vector<nlohmann::json>& frames) {
  char chunk[kFramesReadSize];
  ssize_t n;
  do {
    n = ::read(fd, chunk, sizeof chunk);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return n;
  buffer.append(chunk, static_cast<std::size_t>(n));
  while (std::optional<nlohmann::json> message = take_frame(buffer)) frames.push_back(std::move(*message));
  return n;
}

/// Reads one frame with blocking reads; nothing at end of file.
inline std::optional<nlohmann::json> read_frame(int fd, std::string& buffer) {
  while (true) {
    if (auto message = take_frame(buffer)) return message;
    char chunk[65536];
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace pexec::detail
