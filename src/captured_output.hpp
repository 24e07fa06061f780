#pragma once
/// CapturedOutput: a job's stdout or stderr, byte for byte, with bounded memory. The first
/// kMemoryLimit bytes stay in memory; the rest goes to an unlinked temporary file under $TMPDIR
/// (GNU parallel buffers on disk for the same reason), so that a job printing gigabytes costs
/// pexec one buffer, not its size. Reporters read it back in pieces (for_each_piece).
///
/// A process-mode worker keeps its spill files named, and sends the name with the result (the
/// bytes never travel through the pipe); the parent opens the file and unlinks it (adopt).
/// Copies share the file.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pexec::cli {

class CapturedOutput {
 public:
  static constexpr std::size_t kMemoryLimit = 1 << 20;

  CapturedOutput() = default;
  /// An output held in memory.
  CapturedOutput(std::string bytes) : head_(std::move(bytes)) {}  // NOLINT: implicit, as a string
  CapturedOutput(const char* bytes) : head_(bytes) {}             // NOLINT

  /// Whether the output is exactly `bytes`.
  bool operator==(std::string_view bytes) const { return size() == bytes.size() && to_string() == bytes; }

  /// Adds bytes. False once the spill file could not be written (error() says why); the bytes
  /// of that write and every later one are dropped.
  bool append(std::string_view data);
  std::uint64_t size() const;
  bool empty() const { return size() == 0; }
  bool spilled() const { return file_ != nullptr; }
  /// The bytes kept in memory: the whole output unless spilled().
  const std::string& head() const { return head_; }
  /// Why bytes were lost, or empty.
  const std::string& error() const { return error_; }

  /// Calls `piece` with the whole output, in order, in pieces; false (error() set) if the
  /// spill file cannot be read back.
  bool for_each_piece(const std::function<void(std::string_view)>& piece) const;
  /// The whole output in one string (for small outputs and tests).
  std::string to_string() const;

  /// In this process, spill files keep a name under $TMPDIR (process-mode workers).
  static void keep_spill_files_named();

  friend void to_json(nlohmann::json& j, const CapturedOutput& output);
  friend void from_json(const nlohmann::json& j, CapturedOutput& output);

 private:
  struct SpillFile;
  bool spill(std::string_view data);

  std::string head_;
  std::shared_ptr<SpillFile> file_;
  std::string error_;
};

/// Turns bytes into the inside of a JSON string as nlohmann::json's dump() does with
/// error_handler_t::replace and ensure_ascii off (invalid UTF-8 becomes U+FFFD), piece by piece:
/// a UTF-8 sequence split between two pieces is kept whole.
class JsonStringEscaper {
 public:
  /// Appends the escaped form of `data` to `out`; the bytes of an unfinished sequence wait.
  void feed(std::string_view data, std::string& out);
  /// The end of the string: an unfinished sequence becomes U+FFFD.
  void finish(std::string& out);

 private:
  std::string pending_;  // the start of a UTF-8 sequence, at most 3 bytes
};

}  // namespace pexec::cli
