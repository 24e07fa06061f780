#include "captured_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pexec/detail/write_all.hpp"
#include "temp_dir.hpp"

namespace pexec::cli {

namespace {

bool named_spill_files = false;

}  // namespace

struct CapturedOutput::SpillFile {
  int fd = -1;
  std::uint64_t size = 0;
  std::string name;  // only while a worker keeps it named
  ~SpillFile() {
    if (fd >= 0) ::close(fd);
  }
};

void CapturedOutput::keep_spill_files_named() { named_spill_files = true; }

std::uint64_t CapturedOutput::size() const { return head_.size() + (file_ ? file_->size : 0); }

bool CapturedOutput::append(std::string_view data) {
  if (!error_.empty()) return false;
  if (!file_) {
    std::size_t room = kMemoryLimit - std::min(kMemoryLimit, head_.size());
    std::size_t kept = std::min(room, data.size());
    head_.append(data.substr(0, kept));
    data.remove_prefix(kept);
    if (data.empty()) return true;
  }
  return spill(data);
}

bool CapturedOutput::spill(std::string_view data) {
  if (!file_) {
    auto file = std::make_shared<SpillFile>();
    std::string dir = temp_dir();
    if (named_spill_files) {
      std::string name = dir + "/pexec-output-XXXXXX";
      file->fd = ::mkostemp(name.data(), O_CLOEXEC);
      if (file->fd >= 0) file->name = name;
    } else {
      file->fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    }
    if (file->fd < 0) {
      error_ = "cannot keep the output beyond " + std::to_string(kMemoryLimit) + " bytes in " + dir + ": " +
               std::strerror(errno);
      return false;
    }
    file_ = std::move(file);
  }
  if (!detail::write_all(file_->fd, data)) {
    error_ = "cannot keep the output in " + temp_dir() + ": " + std::strerror(errno);
    return false;
  }
  file_->size += data.size();
  return true;
}

bool CapturedOutput::for_each_piece(const std::function<void(std::string_view)>& piece) const {
  if (!head_.empty()) piece(head_);
  if (!file_) return true;
  std::string chunk(256 * 1024, '\0');
  std::uint64_t offset = 0;
  while (offset < file_->size) {
    ssize_t n = ::pread(file_->fd, chunk.data(), chunk.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    piece(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

std::string CapturedOutput::to_string() const {
  std::string whole;
  for_each_piece([&](std::string_view piece) { whole.append(piece); });
  return whole;
}

void to_json(nlohmann::json& j, const CapturedOutput& output) {
  if (!output.file_ && output.error_.empty()) {
    j = output.head_;
    return;
  }
  j = {{"head", output.head_}, {"error", output.error_}};
  if (output.file_) j.update({{"file", output.file_->name}, {"size", output.file_->size}});
}

void from_json(const nlohmann::json& j, CapturedOutput& output) {
  output = CapturedOutput();
  if (j.is_string()) {
    output.head_ = j.get<std::string>();
    return;
  }
  output.head_ = j.at("head").get<std::string>();
  output.error_ = j.at("error").get<std::string>();
  if (!j.contains("file")) return;
  // Adopt the worker's spill file: open it, then unlink it, so that it goes with the last copy.
  std::string name = j.at("file").get<std::string>();
  auto file = std::make_shared<CapturedOutput::SpillFile>();
  file->fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (file->fd < 0) {
    output.error_ = "cannot read the output kept in " + name + ": " + std::strerror(errno);
    return;
  }
  ::unlink(name.c_str());
  file->size = j.at("size").get<std::uint64_t>();
  output.file_ = std::move(file);
}

// --- JsonStringEscaper -------------------------------------------------------------------------

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

/// The length of the UTF-8 sequence that `lead` starts, 0 if it starts none.
int sequence_length(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

/// Whether `byte` may follow `sequence` (a lead byte and maybe more): the ranges of RFC 3629,
/// which exclude overlong forms, surrogates and code points above U+10FFFF, as nlohmann does.
bool continues(std::string_view sequence, unsigned char byte) {
  if (sequence.size() == 1) {
    auto lead = static_cast<unsigned char>(sequence[0]);
    if (lead == 0xE0) return byte >= 0xA0 && byte <= 0xBF;
    if (lead == 0xED) return byte >= 0x80 && byte <= 0x9F;
    if (lead == 0xF0) return byte >= 0x90 && byte <= 0xBF;
    if (lead == 0xF4) return byte >= 0x80 && byte <= 0x8F;
  }
  return byte >= 0x80 && byte <= 0xBF;
}

void escape_ascii(unsigned char c, std::string& out) {
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default:
      break;
  }
  if (c < 0x20) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
    return;
  }
  out += static_cast<char>(c);
}

}  // namespace

void JsonStringEscaper::feed(std::string_view data, std::string& out) {
  out.reserve(out.size() + data.size() + data.size() / 8);
  std::size_t i = 0;
  while (i < data.size()) {
    auto byte = static_cast<unsigned char>(data[i]);
    if (!pending_.empty()) {
      if (!continues(pending_, byte)) {  // the sequence breaks off: the byte is read again alone
        out += kReplacement;
        pending_.clear();
        continue;
      }
      pending_ += static_cast<char>(byte);
      ++i;
      if (static_cast<int>(pending_.size()) == sequence_length(static_cast<unsigned char>(pending_[0]))) {
        out += pending_;
        pending_.clear();
      }
      continue;
    }
    if (byte < 0x80) {
      // A run of bytes that need no escape is copied at once.
      std::size_t end = i;
      while (end < data.size()) {
        auto c = static_cast<unsigned char>(data[end]);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        ++end;
      }
      if (end > i) {
        out.append(data.substr(i, end - i));
        i = end;
      } else {
        escape_ascii(byte, out);
        ++i;
      }
      continue;
    }
    if (sequence_length(byte) == 0)
      out += kReplacement;
    else
      pending_ += static_cast<char>(byte);
    ++i;
  }
}

void JsonStringEscaper::finish(std::string& out) {
  if (!pending_.empty()) out += kReplacement;
  pending_.clear();
}

}  // namespace pexec::cli
