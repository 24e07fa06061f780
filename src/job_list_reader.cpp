#include "job_list_reader.hpp"

#include <poll.h>

#include <algorithm>
#include <limits>
#include <string_view>
#include <utility>

namespace pexec::cli {

namespace {

bool is_blank(std::string_view text) { return text.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos; }

std::string trimmed(std::string text, Trim trim) {
  constexpr std::string_view kWhite = " \t\n\r\f\v";
  if (trim == Trim::right || trim == Trim::both) text.erase(text.find_last_not_of(kWhite) + 1);
  if (trim == Trim::left || trim == Trim::both) text.erase(0, std::min(text.size(), text.find_first_not_of(kWhite)));
  return text;
}

/// What `pattern` matches if it matches one fixed string (",", "\\t", "\\|"): then a plain
/// search splits faster than a regex.
std::optional<std::string> literal_of(const std::string& pattern) {
  std::string literal;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char escaped = pattern[++i];
      if (escaped == 't')
        literal += '\t';
      else if (escaped == 'n')
        literal += '\n';
      else if (std::string_view("\\^$.|?*+()[]{}/,:;-").find(escaped) != std::string_view::npos)
        literal += escaped;
      else
        return std::nullopt;  // \s, \d, ...: a class
    } else if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      literal += c;
    }
  }
  return literal;
}

std::regex compile(const std::string& pattern, const std::string& option) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw InputError(option + ": '" + pattern + "' is not a regular expression: " + e.what());
  }
}

}  // namespace

JobListReader::JobListReader(std::vector<InputSource> sources, std::vector<bool> linked, InputRules rules,
                             CommandTemplate command)
    : sources_(std::move(sources)), rules_(std::move(rules)), command_(std::move(command)) {
  linked.resize(sources_.size(), false);
  for (std::size_t s = 0; s < sources_.size(); ++s) {
    if (groups_.empty() || !(linked[s] || rules_.link_all)) groups_.emplace_back();
    groups_.back().push_back(s);
  }
  // --link wraps the shorter sources around, so their lengths must be known: all are read whole.
  first_group_lazy_ = !rules_.link_all;
  if (!rules_.column_separator.empty()) {
    if (std::optional<std::string> literal = literal_of(rules_.column_separator))
      literal_separator_ = *literal;
    else
      column_separator_ = compile(rules_.column_separator, "--colsep");
  }
  if (rules_.header && *rules_.header != ":") header_ = compile(*rules_.header, "--col-header");
  whole_.resize(sources_.size());
  header_taken_.resize(sources_.size(), !rules_.header);
  header_names_.resize(sources_.size());
  odometer_.resize(groups_.size(), 0);
  if (!groups_.empty()) lazy_row_.resize(groups_.front().size());
}

JobListReader JobListReader::from_items(std::vector<std::string> items) {
  std::vector<InputSource> sources;
  sources.push_back(InputSource::from_items(std::move(items)));
  return JobListReader(std::move(sources), {}, InputRules{});
}

std::vector<std::string> JobListReader::columns_of(std::string item) const {
  std::vector<std::string> columns;
  const std::string& separator = literal_separator_;
  if (column_separator_) {
    std::sregex_token_iterator part(item.begin(), item.end(), *column_separator_, -1), end;
    for (; part != end; ++part) columns.push_back(part->str());
    if (columns.empty()) columns.emplace_back();
  } else if (!separator.empty()) {
    std::size_t start = 0;
    for (std::size_t at; (at = item.find(separator, start)) != std::string::npos; start = at + separator.size()) {
      columns.push_back(item.substr(start, at - start));
    }
    columns.push_back(item.substr(start));
  } else {
    columns.push_back(std::move(item));
  }
  Trim trim = rules_.trim.value_or(rules_.column_separator.empty() ? Trim::none : Trim::both);
  if (trim != Trim::none) {
    for (std::string& column : columns) column = trimmed(std::move(column), trim);
  }
  return columns;
}

void JobListReader::take_header(std::size_t source, const std::string& item) {
  header_taken_[source] = true;
  if (header_ && !std::regex_search(item + "\n", *header_, std::regex_constants::match_continuous)) {
    throw InputError(sources_[source].name() + ": the first line does not match --col-header " + *rules_.header);
  }
  header_names_[source] = columns_of(item);
}

bool JobListReader::read_whole_sources() {
  for (std::size_t g = first_group_lazy_ ? 1 : 0; g < groups_.size(); ++g) {
    for (std::size_t s : groups_[g]) {
      while (std::optional<std::string> item = sources_[s].next()) {
        if (!header_taken_[s])
          take_header(s, *item);
        else
          whole_[s].push_back(columns_of(std::move(*item)));
      }
      if (!sources_[s].at_end()) return false;
    }
  }
  return true;
}

std::optional<std::size_t> JobListReader::source_to_read() const {
  if (stopped_ || combinations_ended_) return std::nullopt;
  if (!whole_read_) {
    for (std::size_t g = first_group_lazy_ ? 1 : 0; g < groups_.size(); ++g) {
      for (std::size_t s : groups_[g]) {
        if (!sources_[s].at_end()) return s;
      }
    }
  }
  if (first_group_lazy_ && !lazy_row_ready_) {
    for (std::size_t k = 0; k < groups_.front().size(); ++k) {
      if (!lazy_row_[k]) return groups_.front()[k];
    }
  }
  return std::nullopt;
}

std::optional<JobArgs> JobListReader::compose_record() {
  // Item i of each linked source: the shortest decides (:::+), or with --link the longest,
  // the shorter ones starting over.
  auto length_of = [&](const std::vector<std::size_t>& group) {
    std::size_t shortest = std::numeric_limits<std::size_t>::max(), longest = 0;
    for (std::size_t s : group) {
      shortest = std::min(shortest, whole_[s].size());
      longest = std::max(longest, whole_[s].size());
    }
    return rules_.link_all && shortest > 0 ? longest : shortest;
  };
  std::size_t first_whole = first_group_lazy_ ? 1 : 0;
  for (std::size_t g = first_whole; g < groups_.size(); ++g) {
    if (length_of(groups_[g]) == 0) {  // a product with an empty factor is empty
      combinations_ended_ = true;
      return std::nullopt;
    }
  }
  JobArgs record;
  if (first_group_lazy_) {
    for (auto& columns : lazy_row_) record.insert(record.end(), columns->begin(), columns->end());
  }
  for (std::size_t g = first_whole; g < groups_.size(); ++g) {
    for (std::size_t s : groups_[g]) {
      const auto& columns = whole_[s][odometer_[g] % whole_[s].size()];
      record.insert(record.end(), columns.begin(), columns.end());
    }
  }
  // The last group moves fastest; a carry out of the first whole group ends the combinations
  // of this lazy row.
  std::size_t g = groups_.size();
  while (g > first_whole) {
    --g;
    if (++odometer_[g] < length_of(groups_[g])) return record;
    odometer_[g] = 0;
  }
  if (first_group_lazy_) {
    lazy_row_ready_ = false;
    for (auto& columns : lazy_row_) columns.reset();
  } else {
    combinations_ended_ = true;
  }
  return record;
}

std::optional<JobArgs> JobListReader::next_record() {
  while (!combinations_ended_) {
    if (!whole_read_) {
      // Jobs come only from sources read to their real end, not to where a stop cut them.
      if (stopped_ || !read_whole_sources()) {
        if (stopped_) combinations_ended_ = true;
        return std::nullopt;
      }
      whole_read_ = true;
    }
    if (first_group_lazy_ && !lazy_row_ready_) {
      const std::vector<std::size_t>& group = groups_.front();
      for (std::size_t k = 0; k < group.size(); ++k) {
        InputSource& source = sources_[group[k]];
        while (!lazy_row_[k]) {
          std::optional<std::string> item = source.next();
          if (!item) break;
          if (!header_taken_[group[k]])
            take_header(group[k], *item);
          else
            lazy_row_[k] = columns_of(std::move(*item));
        }
        if (!lazy_row_[k]) {
          if (source.at_end()) combinations_ended_ = true;  // :::+: the shortest source decides
          return std::nullopt;
        }
      }
      lazy_row_ready_ = true;
    }
    if (rules_.header && column_names_.empty()) {
      for (const auto& names : header_names_) column_names_.insert(column_names_.end(), names.begin(), names.end());
    }
    std::optional<JobArgs> record = compose_record();
    if (!record) return std::nullopt;
    if (rules_.skip_blank && std::all_of(record->begin(), record->end(), is_blank)) continue;
    return record;
  }
  return std::nullopt;
}

std::optional<JobArgs> JobListReader::next() {
  if (rules_.fill_line && !rules_.max_lines && rules_.spread_over > 1 && per_job_ == 0) {
    // -X/--xargs over several slots: the list is spread evenly, so it is read whole first.
    while (std::optional<JobArgs> record = next_record()) records_.push_back(std::move(*record));
    if (!combinations_ended_) return std::nullopt;
    per_job_ = std::max<std::size_t>(1, (records_.size() + rules_.spread_over - 1) / rules_.spread_over);
  }
  std::size_t wanted = rules_.fill_line ? std::numeric_limits<std::size_t>::max() : 1;
  if (rules_.max_args) wanted = std::max<std::size_t>(1, *rules_.max_args);
  if (rules_.max_lines) wanted = std::min(wanted, rules_.max_lines);
  if (per_job_) wanted = std::min(wanted, per_job_);
  bool size_limited = wanted > 1 && (rules_.fill_line || rules_.max_chars != 0);
  std::size_t max_chars = rules_.max_chars ? rules_.max_chars : kDefaultMaxChars;
  std::size_t size = command_.size_without_arguments();
  std::size_t taken = 0;
  bool full = false;
  while (!full) {
    if (taken == records_.size()) {
      std::optional<JobArgs> record = next_record();
      if (!record) break;
      records_.push_back(std::move(*record));
    }
    if (size_limited) {
      std::size_t added = 0;
      for (const std::string& column : records_[taken]) added += command_.size_of_argument(column);
      if (taken > 0 && size + added > max_chars) break;  // the line is full: the rest waits
      size += added;
    }
    full = ++taken == wanted;
  }
  bool line_full = taken > 0 && taken < records_.size();
  if (taken == 0 || !(full || line_full || combinations_ended_)) return std::nullopt;
  JobArgs args;
  for (std::size_t r = 0; r < taken; ++r) {
    if (!rules_.no_arguments) args.insert(args.end(), records_[r].begin(), records_[r].end());
  }
  records_.erase(records_.begin(), records_.begin() + static_cast<std::ptrdiff_t>(taken));
  return args;
}

bool JobListReader::at_end() const { return combinations_ended_ && records_.empty(); }

int JobListReader::fd() const {
  std::optional<std::size_t> source = source_to_read();
  return source ? sources_[*source].fd() : -1;
}

void JobListReader::fill() {
  if (std::optional<std::size_t> source = source_to_read()) sources_[*source].fill();
}

void JobListReader::stop_reading() {
  stopped_ = true;
  for (InputSource& source : sources_) source.stop_reading();
}

std::optional<JobArgs> JobListReader::next_blocking() {
  while (true) {
    if (std::optional<JobArgs> args = next()) return args;
    if (at_end()) return std::nullopt;
    pollfd p{fd(), POLLIN, 0};
    if (p.fd >= 0) ::poll(&p, 1, -1);
    fill();
  }
}

}  // namespace pexec::cli
