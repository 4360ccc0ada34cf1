// Watches one file and reloads it when it changes: its modification time, size or inode (a file
// replaced by a rename). A refused file leaves the value loaded before in place.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace wallet::compliance {

class file_reloader {
 public:
  // Parses the text and, when it is good, installs its value; returns why it was refused.
  using apply_fn = std::function<std::optional<std::string>(std::string_view text)>;

  enum class result : std::uint8_t {
    unchanged,  // the file is as it was at the last poll: nothing read
    loaded,     // read, parsed and installed
    refused,    // missing, unreadable, too large or not valid: the previous value stays
  };
  struct report {
    result what = result::unchanged;
    std::string detail;  // why it was refused (for the log line)
  };

  file_reloader(std::string path, apply_fn apply);

  // Looks at the file now and loads it when it changed since the last poll; the first poll always
  // loads. A refused file is reported once, not at every poll, until it changes again.
  report poll();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  struct signature {
    std::int64_t mtime_ns = 0;
    std::int64_t size = -1;  // -1: the file could not be looked at
    std::uint64_t inode = 0;
    std::uint64_t device = 0;
    friend bool operator==(const signature&, const signature&) = default;
  };

  std::string path_;
  apply_fn apply_;
  std::optional<signature> seen_;
};

}  // namespace wallet::compliance
