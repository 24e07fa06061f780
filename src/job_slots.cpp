#include "job_slots.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>

#include "pexec/cpu_count.hpp"

namespace pexec::cli {

namespace {

/// `text` as a whole non-negative number below 1e9, if it is one.
std::optional<int> whole_number(const std::string& text) {
  if (text.empty() || text.size() > 9 || !std::all_of(text.begin(), text.end(), ::isdigit)) return std::nullopt;
  return std::stoi(text);
}

}  // namespace

std::optional<JobSlots> JobSlots::parse_count(const std::string& text) {
  JobSlots slots;
  if (auto number = whole_number(text)) {
    slots.form_ = *number == 0 ? Form::as_many : Form::count;
    slots.value_ = *number;
  } else if ((text.starts_with('+') || text.starts_with('-')) && whole_number(text.substr(1))) {
    slots.form_ = Form::cpu_plus;
    slots.value_ = *whole_number(text.substr(1)) * (text[0] == '-' ? -1 : 1);
  } else if (text.ends_with('%') && whole_number(text.substr(0, text.size() - 1))) {
    slots.form_ = Form::cpu_percent;
    slots.value_ = *whole_number(text.substr(0, text.size() - 1));
  } else {
    return std::nullopt;
  }
  return slots;
}

JobSlots JobSlots::parse(const std::string& text) {
  if (auto slots = parse_count(text)) {
    if (slots->form_ == Form::count && slots->value_ > 100000) throw std::invalid_argument("at most 100000");
    return *slots;
  }
  struct stat info;
  if (::stat(text.c_str(), &info) == 0 && !S_ISDIR(info.st_mode)) {
    JobSlots slots;
    slots.form_ = Form::file;
    slots.file_ = text;
    return slots;
  }
  throw std::invalid_argument("'" + text + "' is not N, 0, +N, -N, N% or an existing FILE");
}

int JobSlots::resolve() const {
  int cpus = process_cpu_count();
  switch (form_) {
    case Form::count:
      return value_;
    case Form::as_many:
      return kMost;
    case Form::cpu_plus:
      return std::max(1, std::min(kMost, cpus + value_));
    case Form::cpu_percent:
      return std::max(1, std::min(kMost, static_cast<int>(static_cast<long long>(cpus) * value_ / 100)));
    case Form::pool_default:
    case Form::file:
      break;
  }
  return 1;
}

int JobSlots::workers(int pool_default) const {
  if (form_ == Form::pool_default) return pool_default;
  if (form_ == Form::file) return kMost;
  return std::max(1, resolve());
}

int JobSlots::current(int previous) const {
  if (form_ != Form::file) return workers(previous);
  std::ifstream file(file_);
  std::string text;
  if (!(file >> text)) return std::max(1, previous);
  std::optional<JobSlots> slots = parse_count(text);
  if (!slots) return std::max(1, previous);
  return std::max(1, std::min(kMost, slots->resolve()));
}

}  // namespace pexec::cli
