#include "halt.hpp"

#include <stdexcept>

namespace pexec::cli {

namespace {

/// A whole number from 1 up, all of `text`.
std::size_t parse_count(const std::string& text, const std::string& whole) {
  std::size_t used = 0;
  unsigned long long value = 0;
  try {
    if (!text.empty() && text[0] != '-' && text[0] != '+') value = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value == 0) {
    throw std::invalid_argument("'" + whole + "': N must be a whole number from 1, or a percentage such as 10%");
  }
  return static_cast<std::size_t>(value);
}

/// N% with 0 < N <= 100.
double parse_percent(const std::string& text, const std::string& whole) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !(value > 0 && value <= 100)) {
    throw std::invalid_argument("'" + whole + "': the percentage must be above 0 and at most 100");
  }
  return value;
}

}  // namespace

Halt Halt::parse(const std::string& text) {
  Halt halt;
  // GNU parallel's older spellings.
  if (text == "never" || text == "0") return halt;
  if (text == "1" || text == "2" || text == "-1" || text == "-2") {
    halt.when = text.back() == '1' ? When::soon : When::now;
    halt.why = text[0] == '-' ? Why::success : Why::fail;
    return halt;
  }
  if (text.ends_with('%') && text.find(',') == std::string::npos) {
    halt.when = When::soon;
    halt.percent = parse_percent(text.substr(0, text.size() - 1), text);
    return halt;
  }
  std::size_t comma = text.find(',');
  std::size_t equals = text.find('=', comma == std::string::npos ? 0 : comma);
  if (comma == std::string::npos || equals == std::string::npos) {
    throw std::invalid_argument("'" + text + "' is not never or WHEN,WHY=N (for example now,fail=1 or soon,fail=10%)");
  }
  std::string when = text.substr(0, comma);
  std::string why = text.substr(comma + 1, equals - comma - 1);
  std::string amount = text.substr(equals + 1);
  if (when == "now")
    halt.when = When::now;
  else if (when == "soon")
    halt.when = When::soon;
  else
    throw std::invalid_argument("'" + text + "': WHEN is now or soon, not '" + when + "'");
  if (why == "fail")
    halt.why = Why::fail;
  else if (why == "success")
    halt.why = Why::success;
  else if (why == "done")
    halt.why = Why::done;
  else
    throw std::invalid_argument("'" + text + "': WHY is fail, success or done, not '" + why + "'");
  if (amount.ends_with('%'))
    halt.percent = parse_percent(amount.substr(0, amount.size() - 1), text);
  else
    halt.count = parse_count(amount, text);
  return halt;
}

bool Halt::tripped(const HaltCounts& counts) const {
  if (when == When::never) return false;
  std::size_t matching = why == Why::fail ? counts.failed : why == Why::success ? counts.succeeded : counts.done;
  if (!percent) return matching >= count;
  return counts.done >= kPercentMinimumJobs &&
         static_cast<double>(matching) * 100.0 >= *percent * static_cast<double>(counts.done);
}

int Halt::exit_status(const JobResult& trigger, bool any_failed) const {
  if (why == Why::success) return 0;
  if (!percent && count == 1) {
    if (trigger.exit_code && *trigger.exit_code != 0) return *trigger.exit_code;
    if (trigger.signal) return 128 + *trigger.signal;
    return trigger.status == JobStatus::ok ? 0 : 1;
  }
  return any_failed ? 1 : 0;
}

}  // namespace pexec::cli
