#pragma once
/// HelpFormatter: `pexec --help` written for people. CLI11's own form prints a generic usage
/// line, and validators' internals as types (`INT in [0 - 9223372036854775807]`); this one prints
/// pexec's real usage line first, then the options in their groups, each with its value's name.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace pexec::cli {

class HelpFormatter : public CLI::Formatter {
 public:
  explicit HelpFormatter(std::string usage) : usage_(std::move(usage)) {}

  /// "Usage: ..." and the one-line description under it.
  std::string make_usage(const CLI::App* app, std::string name) const override;
  /// Empty: the description is printed with the usage line, after it.
  std::string make_description(const CLI::App* app) const override;
  /// "Group:" and its options, with one blank line between groups (CLI11's own leaves two).
  std::string make_group(std::string group, bool is_positional, std::vector<const CLI::Option*> options) const override;
  /// The value's name only ("N", "FILE", "thread|process"): never a validator's description.
  std::string make_option_opts(const CLI::Option* option) const override;

 private:
  std::string usage_;
};

}  // namespace pexec::cli
