#include "help_formatter.hpp"

namespace pexec::cli {

std::string HelpFormatter::make_usage(const CLI::App* app, std::string) const {
  return "Usage: " + usage_ + "\n" + app->get_description() + "\n\n";
}

std::string HelpFormatter::make_description(const CLI::App*) const { return ""; }

std::string HelpFormatter::make_group(std::string group, bool is_positional,
                                      std::vector<const CLI::Option*> options) const {
  std::string text = group + ":\n";
  for (const CLI::Option* option : options) text += make_option(option, is_positional);
  return text;
}

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
  if (option->get_type_size() == 0) return "";  // a flag
  // CLI11 appends each validator's description after a ':' ("INT:INT in [1 - 100]").
  std::string type = option->get_type_name();
  return " " + type.substr(0, type.find(':'));
}

}  // namespace pexec::cli
