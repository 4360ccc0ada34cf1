// Polling one file's signature (stat) and reading it whole when it changed.
#include "wallet/compliance/reloader.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "wallet/compliance/files.hpp"

namespace wallet::compliance {
namespace {

// The file's text, or why it could not be read. Reads at most file_bytes_max + 1 bytes.
std::pair<std::string, std::optional<std::string>> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {{}, "cannot open " + path};
  std::string text;
  text.resize(file_bytes_max + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return {{}, "cannot read " + path};
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > file_bytes_max) {
    return {{}, path + " is larger than " + std::to_string(file_bytes_max) + " bytes"};
  }
  return {std::move(text), std::nullopt};
}

}  // namespace

file_reloader::file_reloader(std::string path, apply_fn apply)
    : path_(std::move(path)), apply_(std::move(apply)) {}

file_reloader::report file_reloader::poll() {
  struct stat st {};
  signature now;
  std::string stat_problem;
  if (::stat(path_.c_str(), &st) == 0) {
    now.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                   static_cast<std::int64_t>(st.st_mtim.tv_nsec);
    now.size = static_cast<std::int64_t>(st.st_size);
    now.inode = static_cast<std::uint64_t>(st.st_ino);
    now.device = static_cast<std::uint64_t>(st.st_dev);
  } else {
    stat_problem = "cannot look at " + path_ + ": " +
                   std::error_code(errno, std::generic_category()).message();
  }
  if (seen_ && *seen_ == now) return {result::unchanged, {}};
  seen_ = now;
  if (!stat_problem.empty()) return {result::refused, std::move(stat_problem)};
  auto [text, problem] = read_text(path_);
  if (problem) return {result::refused, std::move(*problem)};
  if (auto refused = apply_(text)) return {result::refused, std::move(*refused)};
  return {result::loaded, {}};
}

}  // namespace wallet::compliance
