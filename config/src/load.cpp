// Merges defaults, the file, the environment and the flags, in that order of precedence, and
// collects one precise message for every problem instead of stopping at the first.
#include "wallet/config/load.hpp"

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wallet/config/text.hpp"

namespace wallet::config {
namespace {

struct flag_value {
  std::size_t index;  // into settings
  std::string flag;   // "--store.batch_size_max", for messages
  std::string text;
};

struct command_line {
  action what = action::run;
  std::optional<std::string> file;  // --config
  std::vector<flag_value> values;
};

std::vector<std::string> flag_names() {
  std::vector<std::string> out{"--config", "--help", "--version", "--print-config"};
  for (const setting& s : settings) out.push_back("--" + std::string(s.name));
  return out;
}

std::vector<std::string> environment_names() {
  std::vector<std::string> out{std::string(environment_config_file)};
  for (const setting& s : settings) out.push_back(environment_name(s.name));
  return out;
}

// When several are given, --help wins over --version, which wins over --print-config.
int priority(action a) {
  switch (a) {
    case action::run:
      return 0;
    case action::print_config:
      return 1;
    case action::version:
      return 2;
    case action::help:
      return 3;
  }
  return 0;
}

std::optional<action> action_flag(std::string_view arg) {
  if (arg == "--help" || arg == "-h") return action::help;
  if (arg == "--version") return action::version;
  if (arg == "--print-config") return action::print_config;
  return std::nullopt;
}

// One "--name=value" or "--name value" argument starting at args[i]; advances i past its value.
void parse_flag(const std::vector<std::string>& args, std::size_t& i, command_line& cl,
                std::vector<std::string>& errors) {
  const std::string& arg = args[i];
  const std::size_t eq = arg.find('=');
  const std::string flag = arg.substr(0, eq);
  const std::string name = flag.substr(2);
  if (action_flag(flag)) return errors.push_back(flag + ": takes no value");
  const auto index = find_setting(name);
  if (name != "config" && !index) {
    const auto hint = nearest(flag, flag_names());
    return errors.push_back(flag + ": unknown flag" +
                            (hint ? "; did you mean " + *hint + "?" : std::string{}));
  }
  std::string text;
  if (eq != std::string::npos) {
    text = arg.substr(eq + 1);
  } else if (i + 1 < args.size() && !args[i + 1].starts_with("--")) {
    text = args[++i];
  } else {
    return errors.push_back(flag + ": needs a value, as in " + flag + "=VALUE");
  }
  if (!index) {
    if (cl.file) {
      errors.emplace_back("--config: given twice");
    } else if (text.empty()) {
      errors.emplace_back("--config: the path is empty");
    } else {
      cl.file = std::move(text);
    }
    return;
  }
  for (const flag_value& earlier : cl.values) {
    if (earlier.index == *index) return errors.push_back(flag + ": given twice");
  }
  cl.values.push_back({*index, flag, std::move(text)});
}

command_line parse_command_line(const std::vector<std::string>& args,
                                std::vector<std::string>& errors) {
  command_line cl;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (const auto a = action_flag(args[i])) {
      if (priority(*a) > priority(cl.what)) cl.what = *a;
    } else if (args[i].starts_with("--") && args[i].size() > 2) {
      parse_flag(args, i, cl, errors);
    } else {
      errors.push_back("unexpected argument \"" + args[i] +
                       "\": settings are flags of the form --NAME=VALUE (see --help)");
    }
  }
  return cl;
}

// Parses `text` as setting `index` and stores it with its origin, or records why not.
void apply_text(std::size_t index, std::string_view text, origin from, config& cfg,
                std::vector<std::string>& errors) {
  const setting& s = settings[index];
  parsed p = parse_value(s, text);
  if (!p.ok) {
    errors.push_back(std::string(s.name) + ": " + p.error + " (from " + describe(from) + ")");
    return;
  }
  cfg.set(index, std::move(*p.ok), std::move(from));
}

void apply_environment(const environment& env, config& cfg, std::vector<std::string>& errors) {
  for (const auto& [name, text] : env) {
    if (!name.starts_with(environment_prefix) || name == environment_config_file) continue;
    bool known = false;
    for (std::size_t i = 0; i < settings.size() && !known; ++i) {
      if (environment_name(settings[i].name) != name) continue;
      known = true;
      apply_text(i, text, origin{source::environment, name}, cfg, errors);
    }
    if (known) continue;
    const auto hint = nearest(name, environment_names());
    errors.push_back(name + ": unknown environment variable (settings are WALLETD_SECTION__NAME)" +
                     (hint ? "; did you mean " + *hint + "?" : std::string{}));
  }
}

// The file named by --config, else by WALLETD_CONFIG, read and applied to `out`.
void apply_config_file(const command_line& cl, const inputs& in, loaded& out) {
  std::string from = "flag --config";
  std::optional<std::string> path = cl.file;
  if (!path) {
    const auto it = in.env.find(environment_config_file);
    if (it == in.env.end()) return;
    const std::string variable(environment_config_file);
    if (it->second.empty()) return out.errors.push_back(variable + ": the path is empty");
    from = "environment " + variable;
    path = it->second;
  }
  out.file = *path;
  file_text content;
  try {
    content = in.read ? in.read(*path) : file_text{std::nullopt, "no file reader"};
  } catch (const std::exception& e) {
    content = {std::nullopt, e.what()};
  }
  if (!content.text) {
    out.errors.push_back("configuration file " + *path + " (from " + from +
                         "): cannot be read: " + content.error);
    return;
  }
  apply_file(*content.text, *path, out.values, out.errors);
}

}  // namespace

environment environment_from(const char* const* envp) {
  environment env;
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    const std::string_view entry(*envp);
    if (!entry.starts_with(environment_prefix)) continue;
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

loaded load(const inputs& in) {
  loaded out;
  const command_line cl = parse_command_line(in.args, out.errors);
  out.what = cl.what;
  if (out.what == action::help || out.what == action::version) return out;

  apply_config_file(cl, in, out);
  apply_environment(in.env, out.values, out.errors);
  for (const flag_value& f : cl.values) {
    apply_text(f.index, f.text, origin{source::flag, f.flag}, out.values, out.errors);
  }
  if (out.errors.empty()) out.errors = validate(out.values);
  return out;
}

}  // namespace wallet::config
