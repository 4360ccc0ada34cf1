// The one table of walletd's settings (name, type, default, bounds, doc) and the relations between
// them. Adding a setting is one entry in `settings`; the loader, --help, --print-config and the
// documentation test all read this table. Checked at compile time in schema.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace wallet::config {

enum class kind : std::uint8_t {
  integer,  // signed 64-bit; bounds are values. Durations are integers with their unit last.
  boolean,  // true or false
  text,     // a string; bounds are its length in bytes
  choice,   // one of the '|'-separated words in `allowed`
  url,      // a string starting with one of the '|'-separated schemes in `allowed`; its password
            // component is never printed
};

// Longest URL setting, in bytes.
inline constexpr std::int64_t url_length_max = 4'096;

struct setting {
  std::string_view name;  // "section.name": lower case, digits and '_', segments joined by '.'
  kind type = kind::integer;
  std::int64_t default_integer = 0;  // integer and boolean (0 or 1)
  std::string_view default_text;     // text, choice and url
  std::int64_t min = 0;              // integer: smallest value; text and url: shortest length
  std::int64_t max = 0;              // integer: largest value; text and url: longest length
  std::string_view allowed;          // choice: the words; url: the schemes; '|'-separated
  bool secret = false;               // never printed or logged: shown as "***"
  std::string_view doc;              // one line, for --help and docs/configuration.md
};

constexpr setting integer_setting(std::string_view name, std::int64_t default_value,
                                  std::int64_t min, std::int64_t max, std::string_view doc) {
  return {name, kind::integer, default_value, {}, min, max, {}, false, doc};
}
constexpr setting boolean_setting(std::string_view name, bool default_value, std::string_view doc) {
  return {name, kind::boolean, default_value ? 1 : 0, {}, 0, 1, {}, false, doc};
}
constexpr setting text_setting(std::string_view name, std::string_view default_value,
                               std::int64_t length_min, std::int64_t length_max,
                               std::string_view doc) {
  return {name, kind::text, 0, default_value, length_min, length_max, {}, false, doc};
}
// A secret string (a token, a key): never printed, logged or shown in an error; default empty.
constexpr setting secret_setting(std::string_view name, std::int64_t length_max,
                                 std::string_view doc) {
  return {name, kind::text, 0, {}, 0, length_max, {}, true, doc};
}
constexpr setting choice_setting(std::string_view name, std::string_view default_value,
                                 std::string_view words, std::string_view doc) {
  return {name, kind::choice, 0, default_value, 0, 0, words, false, doc};
}
constexpr setting url_setting(std::string_view name, std::string_view default_value,
                              std::string_view schemes, std::string_view doc) {
  return {name, kind::url, 0, default_value, 1, url_length_max, schemes, false, doc};
}

// A URL that may be left empty (the feature it points to is then off).
constexpr setting optional_url_setting(std::string_view name, std::string_view schemes,
                                       std::string_view doc) {
  return {name, kind::url, 0, {}, 0, url_length_max, schemes, false, doc};
}

// clang-format off
inline constexpr std::array settings{
  choice_setting("log.level", "info", "trace|debug|info|warn|error",
    "Lowest level of log lines written; lines below it are dropped."),
  integer_setting("log.flush_interval_ms", 10, 0, 1'000,
    "Longest a log line waits before it is written to stdout: a writer thread writes the lines gathered meanwhile in one batch (warn and error lines, and all before them, are written at once). Lines logged in the last interval before a crash or a kill -9 may be lost. 0: each line is written and flushed as it is logged."),
  integer_setting("log.buffer_bytes_max", 1'048'576, 4'096, 268'435'456,
    "Most bytes of log lines not yet written to stdout; a thread logging past it waits until the writer has caught up, so no line is ever dropped (memory: at most twice this)."),

  integer_setting("instance.index", 0, 0, 4'095,
    "This instance's number among instance.count instances (a StatefulSet ordinal); selects the shards it owns."),
  integer_setting("instance.count", 1, 1, 4'096,
    "Number of walletd instances sharing the shards; every instance must be given the same value."),

  integer_setting("runtime.shards", 16, 1, 4'096,
    "Number of shards wallets are hashed onto (NATS subject partitions, one store each). Fixed per deployment."),
  integer_setting("runtime.wallets_resident_max", 1'000'000, 1, 100'000'000,
    "Most wallets held in memory by this instance: the bound on its wallet state."),
  integer_setting("runtime.wallets_live_max", 16'384, 0, 100'000'000,
    "Most resident wallets with an actor of their own in this instance; idle ones past it go dormant (state kept, no actor: ADR 0010). 0: every idle wallet goes dormant."),
  integer_setting("runtime.wallet_inflight_max", 1'024, 1, 65'536,
    "Most commands queued or in flight for one wallet; past it the wallet answers overloaded."),
  integer_setting("runtime.scheduler_threads", 1, 0, 256,
    "Worker threads of the actor scheduler (routers, wallets, sagas); 0: one per core. One keeps a command's hand-offs between actors on one thread (no parked worker to wake) and leaves the other cores to the stores, PostgreSQL and nats-server; raise it when that thread is saturated. The shards' stores have threads of their own."),
  integer_setting("runtime.idempotency_retention_s", 86'400, 60, 31'536'000,
    "How long an idempotency key is remembered; a repeat within it returns the original outcome."),
  integer_setting("runtime.idempotency_keys_resident", 65'536, 1, 1'048'576,
    "Idempotency records kept in memory per wallet (the newest). Older keys within the retention stay in PostgreSQL, summarized by a fixed-size filter per wallet; a repeat of one is answered after a database lookup (ADR 0017). Never a cap on commands."),

  integer_setting("store.batch_size_max", 512, 1, 65'536,
    "Most events a shard's store commits in one PostgreSQL transaction."),
  integer_setting("store.flush_interval_us", 0, 0, 1'000'000,
    "Longest a batch that is not full waits before it is committed; 0: no wait (the writes arriving during a commit form the next batch)."),
  integer_setting("store.commits_in_flight_max", 1, 1, 16,
    "Batches of one shard being committed at once, each on a PostgreSQL connection of its own (above 1, a shard holds this many plus one for loads); a wallet is in one of them at most. 1: the store commits one batch after the other itself, on its one connection. More overlaps a commit's flush with the next batch's work, at the cost of smaller batches (more PostgreSQL CPU per write; ADR 0016)."),
  integer_setting("store.queue_max", 65'536, 1, 16'777'216,
    "Most events waiting for commit in one shard's store; past it commands are answered overloaded."),

  url_setting("postgres.url", "postgresql://wallet@127.0.0.1:55432/wallet", "postgresql|postgres",
    "libpq connection URI of the system of record. Keep the password out of it: use postgres.password_file."),
  text_setting("postgres.password_file", "", 0, 4'096,
    "File whose first line is the PostgreSQL password; empty: none (libpq's PGPASSWORD and ~/.pgpass apply)."),
  choice_setting("postgres.sslmode", "prefer", "disable|allow|prefer|require|verify-ca|verify-full",
    "TLS mode of PostgreSQL connections (libpq sslmode)."),
  optional_url_setting("postgres.replica_url", "postgresql|postgres",
    "libpq connection URI of a read replica for the HTTP API's history reads (same password file and sslmode); empty: the primary."),

  url_setting("nats.url", "nats://127.0.0.1:54222", "nats|tls",
    "NATS server URL, or a comma-separated list of the servers of a NATS cluster."),
  text_setting("nats.credentials_file", "", 0, 4'096,
    "NATS credentials file (user JWT and NKey seed); empty: connect without credentials."),
  text_setting("nats.subject_prefix", "wallet", 1, 64,
    "First token of every subject: <prefix>.cmd.<wallet> for commands, <prefix>.evt.<wallet> for events (docs/nats.md)."),
  boolean_setting("nats.partitioned", false,
    "Consume <prefix>.cmdp.<shard>.<wallet>, which the server's partition mapping fills (docs/nats.md); needed by several instances."),
  text_setting("nats.command_stream", "WALLET_COMMANDS", 1, 64,
    "JetStream stream of commands; created or updated at start-up."),
  text_setting("nats.event_stream", "WALLET_EVENTS", 1, 64,
    "JetStream stream of committed events, one subject per wallet."),
  text_setting("nats.dead_letter_stream", "WALLET_DEAD_LETTERS", 1, 64,
    "JetStream stream of commands that could not be processed, with headers saying why."),
  integer_setting("nats.command_max_age_s", 86'400, 60, 315'360'000,
    "How long the command stream keeps a message; at most runtime.idempotency_retention_s, so that a redelivered command is still recognised."),
  integer_setting("nats.event_max_age_s", 2'592'000, 0, 315'360'000,
    "How long the event stream keeps an event; 0: no age limit. PostgreSQL keeps them all."),
  integer_setting("nats.dead_letter_max_age_s", 2'592'000, 0, 315'360'000,
    "How long the dead-letter stream keeps a message; 0: no age limit."),
  integer_setting("nats.replicas", 1, 1, 5,
    "Replicas of each stream (1 on a single server; 3 in a NATS cluster)."),
  choice_setting("nats.storage", "file", "file|memory",
    "Storage of the streams."),
  integer_setting("nats.duplicate_window_s", 120, 1, 86'400,
    "Nats-Msg-Id deduplication window of the command and event streams; a republished event inside it is dropped."),
  integer_setting("nats.message_bytes_max", 65'536, 1'024, 8'388'608,
    "Largest command message accepted; a larger one is dead-lettered (and the stream refuses bigger ones)."),
  integer_setting("nats.ack_wait_s", 30, 1, 3'600,
    "A command not acked within this is redelivered."),
  integer_setting("nats.deliveries_max", 10, 1, 1'000,
    "Deliveries of one command before it is dead-lettered."),
  integer_setting("nats.ack_pending_max", 4'096, 1, 1'000'000,
    "Commands fetched and not yet acked, per consumer: the bound on the engine's NATS intake."),
  integer_setting("nats.fetch_batch", 256, 1, 10'000,
    "Commands asked for in one pull request."),
  boolean_setting("nats.send_asap", false,
    "Write each command's reply and ack (and each pull request) to the socket at once, on the thread that answers, rather than through NATS.c's flusher thread about 1 ms later: one thread hand-off less per answer, one write per message."),
  integer_setting("nats.nak_delay_ms", 1'000, 1, 600'000,
    "Redelivery delay of a command refused as unavailable (circuit open), shutting down or not owned; the longest delay after overloaded."),
  integer_setting("nats.overloaded_nak_delay_ms", 50, 1, 600'000,
    "First redelivery delay of a command refused as overloaded (a queue full for a moment), doubled at each further refusal of the same message, at most nats.nak_delay_ms."),
  integer_setting("nats.outbox_poll_ms", 100, 1, 60'000,
    "Longest time between two reads of a shard's outbox by the event publisher; it is woken at each commit (in process, or by NOTIFY: ADR 0014), so this only bounds the delay when a wake-up is lost."),
  integer_setting("nats.publish_window_max", 256, 1, 65'536,
    "Events the publisher has sent to the event stream and awaits the acknowledgement of, per shard."),
  integer_setting("nats.publish_round_interval_ms", 5, 0, 1'000,
    "Shortest time between the starts of two rounds of an event publishing thread (unless the last one left events behind): the commits notified meanwhile are read and published together, at the cost of PostgreSQL statements per round. 0: a round at each notification."),
  integer_setting("nats.publish_threads", 4, 1, 64,
    "Threads publishing events, each with a PostgreSQL and a NATS connection of its own and a share of the owned shards (at most one thread per shard). A commit wakes only the thread of its shard (ADR 0014)."),
  integer_setting("nats.outbox_handoff_events_max", 16'384, 0, 1'048'576,
    "Committed events each shard's store hands to the event publisher of its process in memory (ADR 0015), at most; past it the publisher reads the shard's outbox back from PostgreSQL until it has caught up. 0: no hand-off, the publisher always reads the outbox."),
  integer_setting("nats.publish_wallet_window_max", 32, 1, 1'024,
    "Of those, events of one wallet (published in order on a connection that never reconnects, ADR 0011); 1 when nats.replicas > 1, where a leader change could store them out of order."),

  text_setting("http.listen_address", "127.0.0.1", 1, 255,
    "Address the HTTP API listens on (0.0.0.0 or :: for every interface)."),
  integer_setting("http.port", 8'080, 1, 65'535,
    "TCP port of the HTTP API."),
  integer_setting("http.connections_max", 10'000, 1, 1'000'000,
    "Most concurrent HTTP connections; past it a new connection is answered 503 with Retry-After (TLS: closed) and nothing queues."),
  integer_setting("http.threads", 2, 1, 256,
    "Threads running the HTTP server's connections (Boost.Beast I/O); handlers never block them."),
  integer_setting("http.header_bytes_max", 8'192, 1'024, 1'048'576,
    "Largest request header (request line and fields); a larger one is answered 431 and the connection closed."),
  integer_setting("http.body_bytes_max", 65'536, 1'024, 8'388'608,
    "Largest request body; a larger one is answered 413 and the connection closed."),
  integer_setting("http.idle_timeout_ms", 30'000, 100, 3'600'000,
    "Longest a connection may wait for, and take to send, the next request's header (keep-alive idle time); then it is closed."),
  integer_setting("http.read_timeout_ms", 10'000, 100, 600'000,
    "Longest a request's body may take to arrive once its header has; then the connection is closed."),
  integer_setting("http.write_timeout_ms", 10'000, 100, 600'000,
    "Longest writing one response may take; then the connection is closed."),
  text_setting("http.tls_cert_file", "", 0, 4'096,
    "PEM certificate chain of the HTTP API; with http.tls_key_file it serves TLS 1.3 only. Empty: plain HTTP."),
  text_setting("http.tls_key_file", "", 0, 4'096,
    "PEM private key of http.tls_cert_file (a mounted secret); empty: plain HTTP."),
  integer_setting("http.page_limit_max", 1'000, 1, 100'000,
    "Largest limit of one page of a wallet list or a history (GET /v1/wallets, /v1/wallets/{id}/events)."),
  integer_setting("http.read_connections", 4, 1, 256,
    "PostgreSQL connections (a thread each) answering the HTTP API's reads; history uses postgres.replica_url when set."),
  integer_setting("http.read_queue_max", 1'024, 1, 1'000'000,
    "Reads waiting for one of those connections; past it a read is answered 503 overloaded."),
  integer_setting("http.owner_cache_max", 100'000, 0, 100'000'000,
    "Wallets whose owner and currency (never changing) are kept in memory to authorize requests without a read."),

  integer_setting("metrics.port", 9'464, 1, 65'535,
    "TCP port of the Prometheus metrics endpoint (/metrics)."),

  choice_setting("auth.mode", "jwt", "jwt|off",
    "How HTTP requests are authenticated: jwt (bearer tokens, docs/security.md), or off, for development only: every request acts with every role (logged as a warning)."),
  text_setting("auth.issuer", "", 0, 1'024,
    "Token issuer (iss) accepted, compared exactly; required when auth.mode is jwt."),
  text_setting("auth.audience", "", 0, 1'024,
    "Audience a token's aud must name (aud may be a string or an array); required when auth.mode is jwt."),
  text_setting("auth.jwks_file", "", 0, 4'096,
    "JWK Set file of the issuer's public keys, read again every auth.jwks_refresh_s; set this or auth.jwks_url."),
  text_setting("auth.jwks_url", "", 0, 4'096,
    "The issuer's JWKS URL: https:// (http:// only for a loopback host); set this or auth.jwks_file."),
  text_setting("auth.jwks_ca_file", "", 0, 4'096,
    "PEM trust anchors for auth.jwks_url's TLS certificate; empty: the system's trust store."),
  integer_setting("auth.jwks_refresh_s", 300, 10, 86'400,
    "How often the key set is fetched (or read) again."),
  integer_setting("auth.jwks_refresh_min_s", 30, 1, 3'600,
    "Least time between two fetches when a token names an unknown key or a fetch failed: the most load tokens with made-up kids put on the issuer."),
  integer_setting("auth.jwks_fetch_timeout_ms", 5'000, 100, 60'000,
    "Longest one fetch of auth.jwks_url may take (resolve, connect, TLS, request, response)."),
  integer_setting("auth.leeway_s", 60, 0, 600,
    "Clock skew tolerated on a token's exp, nbf and iat."),
  text_setting("auth.roles_claim", "roles", 1, 256,
    "Claim holding the array of roles (read, write, admin, service); a dotted path such as realm_access.roles reaches into nested claims."),
  integer_setting("auth.token_cache_max", 10'000, 0, 10'000'000,
    "Tokens remembered after a successful check (by SHA-256), so that a reused token costs a lookup, not a signature verification; 0: none. Forgotten when the key set changes."),

  integer_setting("rate_limit.principal_burst", 200, 1, 1'000'000,
    "Requests one caller (a token's sub) may make at once before being answered 429."),
  integer_setting("rate_limit.principal_per_second", 100, 1, 1'000'000,
    "Requests per second a caller gets back, up to rate_limit.principal_burst."),
  integer_setting("rate_limit.address_burst", 20, 1, 1'000'000,
    "Requests one client address may make at once where no caller is authenticated."),
  integer_setting("rate_limit.address_per_second", 10, 1, 1'000'000,
    "Requests per second an address gets back, up to rate_limit.address_burst."),
  integer_setting("rate_limit.keys_max", 100'000, 1, 100'000'000,
    "Callers (and, separately, addresses) whose buckets are remembered; past it the least recently seen is forgotten and starts full again."),

  text_setting("compliance.policy_file", "", 0, 4'096,
    "JSON file of KYC limits per level and currency (docs/compliance.md), reloaded when it changes; empty: no limits at any level, said in a warning at start-up."),
  text_setting("compliance.flags_file", "", 0, 4'096,
    "JSON file of feature flags (docs/compliance.md), reloaded when it changes; empty: every feature on and aml_screening off."),
  integer_setting("compliance.reload_poll_ms", 1'000, 100, 3'600'000,
    "How often the policy and flags files are checked for a change (modification time, size, inode); a bad file is refused and the previous one kept."),

  choice_setting("aml.provider", "rules", "rules|http",
    "Who screens outgoing moves when the aml_screening flag is on (docs/compliance.md): the built-in rules (aml.rules_*) or the HTTP provider at aml.http_url."),
  choice_setting("aml.on_provider_down", "fail_closed", "fail_closed|fail_open",
    "When the provider gives no verdict (timed out, failing, circuit open, past aml.deadline_ms): fail_closed refuses the move aml_unavailable (transient, retry with the same key); fail_open lets it through, counted and logged."),
  text_setting("aml.thresholds", "*:1000000", 0, 4'096,
    "Screen a withdrawal or transfer whose amount is at least this, per currency in minor units: CODE:amount entries joined by ',', '*' for every other currency; empty: no amount rule."),
  integer_setting("aml.velocity_window_s", 3'600, 1, 604'800,
    "The sliding window of a wallet's outgoing moves that the velocity rules count (kept by the wallet actor while the wallet is resident)."),
  integer_setting("aml.velocity_count_max", 0, 0, 4'096,
    "Screen an outgoing move when the window already holds this many outgoing moves of the wallet; 0: no count rule."),
  text_setting("aml.velocity_sum_max", "", 0, 4'096,
    "Screen an outgoing move when the window's sum plus the move passes this, per currency like aml.thresholds; empty: no sum rule."),
  text_setting("aml.rules_deny_from", "", 0, 4'096,
    "Rules provider: deny a screened move of at least this amount, per currency like aml.thresholds; empty: never by amount."),
  text_setting("aml.rules_review_from", "", 0, 4'096,
    "Rules provider: verdict review for a screened move of at least this amount (a withdrawal or transfer is held for an admin's decision, a hold placement refused aml_denied: docs/compliance.md); empty: never."),
  boolean_setting("aml.rules_review_on_velocity", false,
    "Rules provider: verdict review when a velocity rule fired (held for a decision like aml.rules_review_from); false: allow."),
  optional_url_setting("aml.http_url", "https|http",
    "The HTTP provider's screening endpoint (POST, JSON); required with aml.provider=http; http:// only for a loopback host."),
  text_setting("aml.http_ca_file", "", 0, 4'096,
    "PEM file of the certificate authorities trusted for aml.http_url; empty: the system's trust store."),
  integer_setting("aml.http_timeout_ms", 2'000, 10, 60'000,
    "Longest one attempt at the HTTP provider may take (resolve, connect, TLS, request, answer)."),
  integer_setting("aml.http_retries", 2, 0, 10,
    "Attempts after the first when the provider times out or answers 5xx, 408 or 429."),
  integer_setting("aml.http_backoff_initial_ms", 50, 1, 60'000,
    "Wait before the first retry; it doubles for each further one up to aml.http_backoff_max_ms, each spread at random over its upper half (jitter)."),
  integer_setting("aml.http_backoff_max_ms", 1'000, 1, 60'000,
    "Longest wait between two attempts at the HTTP provider."),
  integer_setting("aml.circuit_failures", 5, 1, 1'000,
    "Consecutive failed attempts that open the HTTP provider's circuit: screenings then get no verdict at once, without an attempt."),
  integer_setting("aml.circuit_cool_down_ms", 5'000, 100, 3'600'000,
    "How long the provider's circuit stays open before one probe attempt may close it again."),
  integer_setting("aml.deadline_ms", 10'000, 100, 600'000,
    "Longest a wallet waits for a verdict (its later commands wait behind it); past it the move is handled by aml.on_provider_down."),
  integer_setting("aml.inflight_max", 256, 1, 100'000,
    "Screenings in flight at once in this process (each on its own thread); past it a move that needs one is answered overloaded."),
  integer_setting("aml.review_hold_s", 604'800, 1, 31'536'000,
    "How long a withdrawal or transfer the provider sends to review stays held for an admin's decision (POST /v1/admin/aml/reviews/{id}/decision); then the hold expires and the money is available again (the review ends expired)."),

  integer_setting("shutdown.grace_period_ms", 25'000, 1'000, 3'600'000,
    "On SIGTERM, longest time to finish and commit in-flight work before exiting; keep it below the pod's terminationGracePeriodSeconds."),
};
// clang-format on

// A relation between two integer settings: left * left_scale OP right * right_scale.
enum class comparison : std::uint8_t { less, less_equal, not_equal };

struct relation {
  std::string_view left;
  std::int64_t left_scale = 1;
  comparison op = comparison::less;
  std::string_view right;
  std::int64_t right_scale = 1;
  std::string_view why;  // completes "left must be OP right: ..."
};

// clang-format off
inline constexpr std::array relations{
  relation{"instance.index", 1, comparison::less, "instance.count", 1,
    "instances are numbered 0 to instance.count - 1"},
  relation{"instance.count", 1, comparison::less_equal, "runtime.shards", 1,
    "every instance owns at least one shard"},
  relation{"nats.command_max_age_s", 1, comparison::less_equal, "runtime.idempotency_retention_s", 1,
    "a command the stream still holds could otherwise be redelivered after its key was forgotten and applied twice"},
  relation{"nats.fetch_batch", 1, comparison::less_equal, "nats.ack_pending_max", 1,
    "a pull request cannot take more than the consumer may have unacknowledged"},
  relation{"store.batch_size_max", 1, comparison::less_equal, "store.queue_max", 1,
    "a full batch must fit in the store's queue"},
  relation{"http.port", 1, comparison::not_equal, "metrics.port", 1,
    "the HTTP API and the metrics endpoint each need their own port"},
  relation{"store.flush_interval_us", 1, comparison::less, "shutdown.grace_period_ms", 1'000,
    "a shutdown must leave time for at least one flush"},
  relation{"auth.jwks_refresh_min_s", 1, comparison::less_equal, "auth.jwks_refresh_s", 1,
    "a refetch for an unknown key must not be rarer than the periodic refresh"},
  relation{"aml.http_backoff_initial_ms", 1, comparison::less_equal, "aml.http_backoff_max_ms", 1,
    "the first wait cannot be longer than the longest"},
  relation{"aml.http_timeout_ms", 1, comparison::less, "aml.deadline_ms", 1,
    "one attempt at the provider must fit in the time a wallet waits for its verdict"},
};
// clang-format on

// The index of the setting called `name`, if there is one.
constexpr std::optional<std::size_t> find_setting(std::string_view name) {
  for (std::size_t i = 0; i < settings.size(); ++i) {
    if (settings[i].name == name) return i;
  }
  return std::nullopt;
}

// Compile-time checked handles on a setting: `cfg.integer("store.batch_size_max")` does not
// compile if the name is misspelt or names a setting of another kind.
template <kind... Kinds>
struct key {
  // NOLINTNEXTLINE(google-explicit-constructor): a setting's name converts to its key.
  consteval key(const char* name) : index(index_of(name)) {}
  std::size_t index;

 private:
  static consteval std::size_t index_of(const char* name) {
    const auto found = find_setting(name);
    if (!found) throw "no setting has this name";
    if (((settings[*found].type != Kinds) && ...)) throw "this setting has another kind";
    return *found;
  }
};

using integer_key = key<kind::integer>;
using boolean_key = key<kind::boolean>;
using text_key = key<kind::text, kind::choice, kind::url>;
using any_key = key<kind::integer, kind::boolean, kind::text, kind::choice, kind::url>;

// An integer setting whose name ends in its unit: _us, _ms or _s.
struct duration_key {
  // NOLINTNEXTLINE(google-explicit-constructor): a setting's name converts to its key.
  consteval duration_key(const char* name) : index(integer_key(name).index) {
    const std::string_view n = settings[index].name;
    if (n.ends_with("_us")) {
      microseconds_per_unit = 1;
    } else if (n.ends_with("_ms")) {
      microseconds_per_unit = 1'000;
    } else if (n.ends_with("_s")) {
      microseconds_per_unit = 1'000'000;
    } else {
      throw "a duration setting's name ends in _us, _ms or _s";
    }
  }
  std::size_t index;
  std::int64_t microseconds_per_unit = 1;
};

}  // namespace wallet::config
