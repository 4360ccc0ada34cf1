// Subjects of the NATS interface.
#include "wallet/nats/settings.hpp"

#include <algorithm>

#include "wallet/engine/shard.hpp"

namespace wallet::nats {
namespace {

std::string join(std::string_view prefix, std::string_view kind, std::string_view rest) {
  std::string s;
  s.reserve(prefix.size() + kind.size() + rest.size() + 2);
  s.append(prefix).append(".").append(kind).append(".").append(rest);
  return s;
}

}  // namespace

std::string subject_token(std::string_view wallet_id) {
  std::string token{wallet_id};
  std::replace(token.begin(), token.end(), '.', engine::subject_dot);
  return token;
}

std::string wallet_of_token(std::string_view token) {
  std::string id{token};
  std::replace(id.begin(), id.end(), engine::subject_dot, '.');
  return id;
}

std::string command_subject(std::string_view prefix, std::string_view wallet_id) {
  return join(prefix, "cmd", subject_token(wallet_id));
}

std::string partition_subject(std::string_view prefix, std::uint32_t shard,
                              std::string_view wallet_id) {
  return join(prefix, "cmdp", std::to_string(shard).append(".").append(subject_token(wallet_id)));
}

std::string command_filter(const nats_settings& s, std::uint32_t shard) {
  return s.partitioned ? join(s.prefix, "cmdp", std::to_string(shard) + ".*")
                       : join(s.prefix, "cmd", "*");
}

std::string system_subject(std::string_view prefix, std::string_view wallet_id) {
  return join(prefix, "sys", subject_token(wallet_id));
}

std::string system_filter(const nats_settings& s, std::uint32_t shard) {
  return s.partitioned ? join(s.prefix, "sysp", std::to_string(shard) + ".*")
                       : join(s.prefix, "sys", "*");
}

std::string event_subject(std::string_view prefix, std::string_view wallet_id) {
  return join(prefix, "evt", subject_token(wallet_id));
}

std::string dead_letter_subject(std::string_view prefix) { return join(prefix, "dlq", "cmd"); }

std::string wallet_query_subject(std::string_view prefix, std::string_view wallet_id) {
  return join(prefix, "query", "wallet." + subject_token(wallet_id));
}

std::string outcome_query_subject(std::string_view prefix, std::string_view wallet_id) {
  return join(prefix, "query", "outcome." + subject_token(wallet_id));
}

std::string wallet_of_subject(std::string_view subject) {
  const auto dot = subject.rfind('.');
  return dot == std::string_view::npos ? std::string{} : wallet_of_token(subject.substr(dot + 1));
}

bool is_subject_token(std::string_view text) noexcept {
  return !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    return c == '.' || c == '*' || c == '>' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
  });
}

}  // namespace wallet::nats
