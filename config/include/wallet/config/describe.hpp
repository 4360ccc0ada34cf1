// The schema and a configuration as people read them: --help, docs/configuration.md, and the
// effective configuration as JSON (secrets redacted).
#pragma once

#include <string>

#include "wallet/config/config.hpp"

namespace wallet::config {

// The --help text: usage, precedence, and every setting with its type, default, bounds, flag,
// environment variable and doc.
std::string help_text();

// The settings table and the list of relations in Markdown, exactly as docs/configuration.md
// carries them between its "settings-reference" markers (a test compares the two).
std::string markdown_reference();

// The configuration as a JSON object nested by section, in schema order, redacted with render().
// Without `pretty`, one line (for a log line); with it, indented, ending in a newline. A
// configuration printed without secrets or URL passwords reads back as a configuration file.
std::string to_json(const config& cfg, bool pretty);

}  // namespace wallet::config
