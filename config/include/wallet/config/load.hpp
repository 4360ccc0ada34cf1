// Loads the configuration from its three sources over the defaults: file < environment < flags.
// Every input is a parameter (arguments, environment, file reader), so tests need no globals.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wallet/config/config.hpp"

namespace wallet::config {

// What the command line asks walletd to do.
enum class action : std::uint8_t { run, help, version, print_config };

// Environment variables by name. Only WALLETD_* ones are read.
using environment = std::map<std::string, std::string, std::less<>>;

// The WALLETD_* variables of an environ-style array (NAME=VALUE entries, null-terminated).
environment environment_from(const char* const* envp);

// A file's content, or why it could not be read.
struct file_text {
  std::optional<std::string> text;
  std::string error;
};
using file_reader = std::function<file_text(const std::string& path)>;

// A configuration file is small: anything larger is refused rather than read (e.g. /dev/zero).
inline constexpr std::size_t file_size_max = 1U << 20U;

// Reads a regular file of at most file_size_max bytes.
file_text read_file(const std::string& path);

struct inputs {
  std::vector<std::string> args;  // the command line without the program name
  environment env;
  file_reader read = read_file;
};

struct loaded {
  action what = action::run;
  config values;                    // defaults where a source was missing or wrong
  std::string file;                 // the configuration file read, if any
  std::vector<std::string> errors;  // one precise message per problem; empty if none

  [[nodiscard]] bool ok() const { return errors.empty(); }
};

// Never throws for bad input: every problem is one entry in `errors`. Relations between settings
// are checked only once every single value is valid, so that one mistake gives one message.
loaded load(const inputs& in);

// Parses a JSON configuration file's text (JSON, plus // and /* */ comments) into `cfg`.
// Appends one message per problem to `errors`; `path` is only used in messages.
void apply_file(std::string_view text, const std::string& path, config& cfg,
                std::vector<std::string>& errors);

}  // namespace wallet::config
