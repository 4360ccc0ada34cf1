// The metrics adapter: each probe call read back from the registry (names, labels, values), label
// values kept to their fixed sets, the tees, and /metrics fetched over a plain socket.
#include "wallet/metrics/metrics.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "wallet/engine/command.hpp"
#include "wallet/engine/event.hpp"
#include "wallet/metrics/http_metrics.hpp"
#include "wallet/metrics/tee.hpp"

namespace wallet::metrics {
namespace {

using label_set = std::vector<std::pair<std::string, std::string>>;

// The one series of `name` carrying every label in `labels` (others may be there too).
std::optional<prometheus::ClientMetric> series(const registry& r, const std::string& name,
                                               const label_set& labels) {
  for (const prometheus::MetricFamily& family : r.prometheus_registry()->Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      bool all = true;
      for (const auto& [key, value] : labels) {
        bool found = false;
        for (const auto& l : m.label) found = found || (l.name == key && l.value == value);
        all = all && found;
      }
      if (all) return m;
    }
  }
  return std::nullopt;
}

double counter_value(const registry& r, const std::string& name, const label_set& labels = {}) {
  const auto m = series(r, name, labels);
  return m ? m->counter.value : -1.0;
}

double gauge_value(const registry& r, const std::string& name, const label_set& labels) {
  const auto m = series(r, name, labels);
  return m ? m->gauge.value : -1.0;
}

// True when some label value anywhere contains `text`.
bool any_label_contains(const registry& r, std::string_view text) {
  for (const prometheus::MetricFamily& family : r.prometheus_registry()->Collect()) {
    for (const prometheus::ClientMetric& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.value.find(text) != std::string::npos) return true;
      }
    }
  }
  return false;
}

actors::submit_outcome accepted() { return actors::submit_outcome{}; }

actors::submit_outcome rejected(engine::rejection why) {
  actors::submit_outcome o;
  o.result.rejected = why;
  return o;
}

class metrics_test : public ::testing::Test {
 protected:
  std::shared_ptr<registry> reg_ = std::make_shared<registry>();
};

TEST_F(metrics_test, commands_are_counted_by_command_and_outcome) {
  runtime_metrics probe{reg_};
  probe.command_answered("deposit", accepted());
  probe.command_answered("deposit", accepted());
  probe.command_answered("withdraw", rejected(engine::rejection::insufficient_funds));
  probe.command_answered("withdraw", actors::refused(actors::submit_errc::overloaded));

  const std::string name = "wallet_commands_total";
  EXPECT_EQ(counter_value(*reg_, name, {{"command", "deposit"}, {"outcome", "accepted"}}), 2.0);
  EXPECT_EQ(counter_value(*reg_, name, {{"command", "withdraw"}, {"outcome", "rejected"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, name, {{"command", "withdraw"}, {"outcome", "overloaded"}}), 1.0);
  // Every series exists from the start, at zero.
  EXPECT_EQ(counter_value(*reg_, name, {{"command", "close_wallet"}, {"outcome", "not_owner"}}),
            0.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_rejections_total", {{"code", "insufficient_funds"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_rejections_total", {{"code", "wallet_frozen"}}), 0.0);
}

template <std::size_t... I>
void expect_every_event_names_its_command(std::index_sequence<I...> /*unused*/) {
  const engine::event_body events[] = {engine::event_body{std::in_place_index<I>}...};
  const engine::command_body commands[] = {engine::command_body{std::in_place_index<I>}...};
  for (std::size_t i = 0; i < sizeof...(I); ++i) {
    // The two variants list the commands and the events they append in the same order.
    EXPECT_EQ(command_name_of(engine::event_name(events[i])), engine::command_name(commands[i]));
    EXPECT_EQ(command_name_of(engine::command_name(commands[i])),
              engine::command_name(commands[i]));
  }
}

TEST_F(metrics_test, committed_commands_named_by_their_event_count_under_the_command) {
  static_assert(std::variant_size_v<engine::event_body> ==
                std::variant_size_v<engine::command_body>);
  expect_every_event_names_its_command(
      std::make_index_sequence<std::variant_size_v<engine::event_body>>{});

  runtime_metrics probe{reg_};
  probe.command_answered("deposited", accepted());
  probe.command_answered("deposit", rejected(engine::rejection::wallet_frozen));
  probe.command_answered("replay", accepted());
  EXPECT_EQ(counter_value(*reg_, "wallet_commands_total",
                          {{"command", "deposit"}, {"outcome", "accepted"}}),
            1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_commands_total",
                          {{"command", "deposit"}, {"outcome", "rejected"}}),
            1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_commands_total",
                          {{"command", "replay"}, {"outcome", "accepted"}}),
            1.0);
}

TEST_F(metrics_test, an_unknown_command_name_counts_as_other) {
  runtime_metrics probe{reg_};
  probe.command_answered("deposit-wallet-7f3a", accepted());
  EXPECT_EQ(counter_value(*reg_, "wallet_commands_total",
                          {{"command", "other"}, {"outcome", "accepted"}}),
            1.0);
  EXPECT_FALSE(any_label_contains(*reg_, "7f3a"));
}

TEST_F(metrics_test, store_batches_are_counted_and_observed) {
  runtime_metrics probe{reg_};
  probe.batch_committed(3, 5, std::chrono::microseconds{1'500});
  probe.batch_committed(3, 1'024, std::chrono::microseconds{4'000'000});
  probe.batch_failed(3, 7, actors::store_error{actors::store_errc::unavailable, "gone"});

  EXPECT_EQ(
      counter_value(*reg_, "wallet_store_batches_total", {{"shard", "3"}, {"result", "committed"}}),
      2.0);
  EXPECT_EQ(
      counter_value(*reg_, "wallet_store_batches_total", {{"shard", "3"}, {"result", "failed"}}),
      1.0);

  const auto writes = series(*reg_, "wallet_store_batch_writes", {});
  ASSERT_TRUE(writes);
  EXPECT_EQ(writes->histogram.sample_count, 2U);
  EXPECT_EQ(writes->histogram.sample_sum, 1'029.0);
  // 1, 2, 4, ..., 1024 and +Inf.
  ASSERT_EQ(writes->histogram.bucket.size(), 12U);
  EXPECT_EQ(writes->histogram.bucket[0].upper_bound, 1.0);
  EXPECT_EQ(writes->histogram.bucket[10].upper_bound, 1'024.0);
  EXPECT_EQ(writes->histogram.bucket[2].cumulative_count, 0U);  // le 4
  EXPECT_EQ(writes->histogram.bucket[3].cumulative_count, 1U);  // le 8
  EXPECT_EQ(writes->histogram.bucket[10].cumulative_count, 2U);

  const auto seconds = series(*reg_, "wallet_store_commit_seconds", {});
  ASSERT_TRUE(seconds);
  EXPECT_EQ(seconds->histogram.sample_count, 2U);
  EXPECT_DOUBLE_EQ(seconds->histogram.sample_sum, 4.001'5);
  EXPECT_EQ(seconds->histogram.bucket.front().upper_bound, commit_seconds_bucket_min);
  const auto& last = seconds->histogram.bucket[seconds->histogram.bucket.size() - 2];
  EXPECT_EQ(last.upper_bound, commit_seconds_bucket_max);
  EXPECT_EQ(last.cumulative_count, 1U);  // four seconds is past the last bound
}

TEST_F(metrics_test, stage_times_are_observed) {
  runtime_metrics runtime{reg_};
  runtime.write_waited(1, std::chrono::microseconds{2'000});
  runtime.write_waited(2, std::chrono::microseconds{30'000});
  consumer_metrics consumer{reg_};
  consumer.taken(std::chrono::milliseconds{3});
  consumer.decided(std::chrono::milliseconds{12});
  consumer.decided(std::chrono::milliseconds{40});

  const auto wait = series(*reg_, "wallet_store_wait_seconds", {});
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->histogram.sample_count, 2U);
  EXPECT_DOUBLE_EQ(wait->histogram.sample_sum, 0.032);
  EXPECT_EQ(wait->histogram.bucket.front().upper_bound, commit_seconds_bucket_min);
  const auto delivery = series(*reg_, "wallet_nats_command_delivery_seconds", {});
  ASSERT_TRUE(delivery);
  EXPECT_EQ(delivery->histogram.sample_count, 1U);
  EXPECT_DOUBLE_EQ(delivery->histogram.sample_sum, 0.003);
  const auto engine = series(*reg_, "wallet_nats_command_engine_seconds", {});
  ASSERT_TRUE(engine);
  EXPECT_EQ(engine->histogram.sample_count, 2U);
  EXPECT_DOUBLE_EQ(engine->histogram.sample_sum, 0.052);
}

TEST_F(metrics_test, circuit_and_resident_gauges_are_set_per_shard) {
  runtime_metrics probe{reg_};
  probe.circuit_changed(0, actors::circuit_state::open);
  probe.circuit_changed(1, actors::circuit_state::half_open);
  probe.circuit_changed(2, actors::circuit_state::open);
  probe.circuit_changed(2, actors::circuit_state::closed);
  EXPECT_EQ(gauge_value(*reg_, "wallet_circuit_state", {{"shard", "0"}}), 2.0);
  EXPECT_EQ(gauge_value(*reg_, "wallet_circuit_state", {{"shard", "1"}}), 1.0);
  EXPECT_EQ(gauge_value(*reg_, "wallet_circuit_state", {{"shard", "2"}}), 0.0);

  probe.wallets_resident(4, 120);
  probe.wallets_resident(4, 80);
  EXPECT_EQ(gauge_value(*reg_, "wallet_wallets_resident", {{"shard", "4"}}), 80.0);
  probe.wallets_dormant(4, 70);
  EXPECT_EQ(gauge_value(*reg_, "wallet_wallets_dormant", {{"shard", "4"}}), 70.0);
}

TEST_F(metrics_test, runtime_failures_are_counted_with_bounded_labels) {
  runtime_metrics probe{reg_};
  const actors::store_error error{actors::store_errc::fence_conflict, "wallet w-secret-42 moved"};
  probe.wallet_load_failed(1, error);
  probe.wallet_gave_up(1, error);
  probe.scan_failed(2, error);
  probe.actor_failed("store", 1, "boom in w-secret-42");
  probe.actor_failed("w-secret-42", 1, "boom");
  probe.saga_leg_failed("transfer-w-secret-42", "insufficient_funds");
  probe.saga_leg_failed("transfer-w-secret-42", "unavailable");
  probe.saga_leg_failed("transfer-w-secret-42", "lost w-secret-42");

  EXPECT_EQ(counter_value(*reg_, "wallet_wallet_load_failures_total",
                          {{"shard", "1"}, {"error", "fence_conflict"}}),
            1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_wallets_given_up_total", {{"shard", "1"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_recovery_scan_failures_total", {{"shard", "2"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_actor_failures_total", {{"kind", "store"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_actor_failures_total", {{"kind", "other"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_saga_leg_failures_total", {{"why", "insufficient_funds"}}),
            1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_saga_leg_failures_total", {{"why", "unavailable"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_saga_leg_failures_total", {{"why", "other"}}), 1.0);
  EXPECT_FALSE(any_label_contains(*reg_, "secret"));
}

TEST_F(metrics_test, nats_failure_messages_map_to_a_fixed_set) {
  EXPECT_EQ(nats_failure_kind("fetching commands: Timeout"), "fetch");
  EXPECT_EQ(nats_failure_kind("acking a command: Connection Closed"), "ack");
  EXPECT_EQ(nats_failure_kind("NAKing a deferred command: Connection Closed"), "ack");
  EXPECT_EQ(nats_failure_kind("replying to _INBOX.abc: No Responders"), "reply");
  EXPECT_EQ(nats_failure_kind("publishing to wallet.events.w1: Timeout"), "publish");
  EXPECT_EQ(nats_failure_kind("terminating a dead-lettered command: x"), "dead_letter");
  EXPECT_EQ(nats_failure_kind("creating a dead letter"), "dead_letter");
  EXPECT_EQ(nats_failure_kind("wallet w-secret-42 is odd"), "other");
}

TEST_F(metrics_test, consumer_reports_are_counted_with_bounded_labels) {
  consumer_metrics probe{reg_};
  probe.dead_lettered("deliveries_exceeded", "delivered 9 times for w-secret-42");
  probe.dead_lettered("invalid", "bad amount");
  probe.dead_lettered("write_refused", "{}");
  probe.dead_lettered("w-secret-42", "");
  probe.deferred("overloaded");
  probe.deferred("unavailable");
  probe.deferred("unavailable");
  probe.redelivered(2);
  probe.redelivered(3);
  probe.answered(accepted());
  probe.answered(rejected(engine::rejection::wallet_not_found));
  probe.failed("fetching commands: Timeout");
  probe.failed("replying to _INBOX.w-secret-42: No Responders");
  probe.failed("publishing to wallet.dead: Timeout");  // a dead letter not stored
  probe.failed("w-secret-42 exploded");

  const std::string dead = "wallet_nats_dead_letters_total";
  EXPECT_EQ(counter_value(*reg_, dead, {{"reason", "deliveries_exceeded"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, dead, {{"reason", "invalid"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, dead, {{"reason", "write_refused"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, dead, {{"reason", "other"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_nats_deferred_total", {{"why", "overloaded"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_nats_deferred_total", {{"why", "unavailable"}}), 2.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_nats_redeliveries_total"), 2.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_nats_commands_total", {{"outcome", "accepted"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_nats_commands_total", {{"outcome", "rejected"}}), 1.0);
  const std::string failures = "wallet_nats_failures_total";
  EXPECT_EQ(counter_value(*reg_, failures, {{"what", "fetch"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, failures, {{"what", "reply"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, failures, {{"what", "dead_letter"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, failures, {{"what", "other"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, failures, {{"what", "ack"}}), 0.0);
  EXPECT_FALSE(any_label_contains(*reg_, "secret"));
  EXPECT_FALSE(any_label_contains(*reg_, "INBOX"));
}

TEST_F(metrics_test, publisher_and_query_reports_are_counted) {
  publisher_metrics publisher{reg_};
  publisher.published(2, 10);
  publisher.published(2, 5);
  publisher.failed("reading the outbox of shard 2: connection lost");
  publisher.failed("publishing to wallet.events.w-secret-42: Timeout");
  publisher.failed("moving the outbox cursor of shard 2: gone");
  publisher.failed("connecting to PostgreSQL: refused");
  EXPECT_EQ(counter_value(*reg_, "wallet_events_published_total", {{"shard", "2"}}), 15.0);
  const std::string stages = "wallet_event_publish_failures_total";
  EXPECT_EQ(counter_value(*reg_, stages, {{"stage", "outbox_read"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, stages, {{"stage", "publish"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, stages, {{"stage", "outbox_cursor"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, stages, {{"stage", "database"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_nats_failures_total", {{"what", "publish"}}), 1.0);
  // ADR 0015: where the events came from.
  publisher.taken(2, nats::outbox_source::database, 0);
  publisher.taken(2, nats::outbox_source::database, 7);
  publisher.taken(2, nats::outbox_source::memory, 30);
  EXPECT_EQ(counter_value(*reg_, "wallet_outbox_takes_total", {{"source", "database"}}), 2.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_outbox_takes_total", {{"source", "memory"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_outbox_events_taken_total", {{"source", "database"}}),
            7.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_outbox_events_taken_total", {{"source", "memory"}}), 30.0);

  query_metrics query{reg_};
  query.failed("answering a query: No Responders");
  query.failed("connecting to PostgreSQL: refused");
  query.failed("canceling statement due to statement timeout");
  query.failed("a query was still running at stop; it finishes on its own");
  EXPECT_EQ(counter_value(*reg_, "wallet_query_failures_total", {{"what", "reply"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_query_failures_total", {{"what", "database"}}), 2.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_query_failures_total", {{"what", "other"}}), 1.0);

  leg_metrics legs{reg_};
  legs.failed("publishing to wallet.sys.w-secret-42: Timeout");
  EXPECT_EQ(counter_value(*reg_, "wallet_nats_failures_total", {{"what", "leg"}}), 1.0);
  EXPECT_FALSE(any_label_contains(*reg_, "secret"));
}

// Counts what it hears, to see that a tee reaches both sides.
class counting_runtime_probe final : public actors::runtime_probe {
 public:
  void command_answered(std::string_view /*c*/, const actors::submit_outcome& /*o*/) override {
    ++calls;
  }
  void scan_failed(std::uint32_t /*shard*/, const actors::store_error& /*e*/) override { ++calls; }
  int calls = 0;
};

class counting_consumer_probe final : public nats::consumer_probe {
 public:
  void redelivered(std::uint64_t /*deliveries*/) override { ++calls; }
  int calls = 0;
};

TEST_F(metrics_test, compliance_reloads_are_counted_by_file_and_result) {
  compliance_metrics m{reg_};
  const std::string name = "wallet_compliance_reloads_total";
  // Every series exists from the start, at 0.
  EXPECT_EQ(counter_value(*reg_, name, {{"file", "policy"}, {"result", "refused"}}), 0);
  m.reloaded("policy", true);
  m.reloaded("flags", true);
  m.reloaded("flags", false);
  m.reloaded("flags", false);
  m.reloaded("/etc/secret/path.json", true);
  EXPECT_EQ(counter_value(*reg_, name, {{"file", "policy"}, {"result", "loaded"}}), 1);
  EXPECT_EQ(counter_value(*reg_, name, {{"file", "policy"}, {"result", "refused"}}), 0);
  EXPECT_EQ(counter_value(*reg_, name, {{"file", "flags"}, {"result", "loaded"}}), 1);
  EXPECT_EQ(counter_value(*reg_, name, {{"file", "flags"}, {"result", "refused"}}), 2);
  EXPECT_EQ(counter_value(*reg_, name, {{"file", "other"}, {"result", "loaded"}}), 1);
  EXPECT_FALSE(any_label_contains(*reg_, "secret")) << "a path never becomes a label";
}

TEST_F(metrics_test, feature_disabled_and_kyc_rejections_are_counted_by_code) {
  runtime_metrics m{reg_};
  actors::submit_outcome out;
  out.result.rejected = engine::rejection::feature_disabled;
  m.command_answered("transfer_debit", out);
  out.result.rejected = engine::rejection::kyc_daily_limit_exceeded;
  m.command_answered("withdraw", out);
  EXPECT_EQ(counter_value(*reg_, "wallet_rejections_total", {{"code", "feature_disabled"}}), 1);
  EXPECT_EQ(counter_value(*reg_, "wallet_rejections_total", {{"code", "kyc_daily_limit_exceeded"}}),
            1);
  EXPECT_EQ(counter_value(*reg_, "wallet_commands_total",
                          {{"command", "set_kyc_level"}, {"outcome", "accepted"}}),
            0)
      << "the new command has its series from the start";
  EXPECT_EQ(command_name_of("kyc_level_set"), "set_kyc_level");
}

TEST_F(metrics_test, tees_forward_every_call_to_both_probes) {
  auto log = std::make_shared<counting_runtime_probe>();
  runtime_tee tee{log, std::make_shared<runtime_metrics>(reg_)};
  tee.command_answered("deposit", accepted());
  tee.scan_failed(0, actors::store_error{});
  EXPECT_EQ(log->calls, 2);
  EXPECT_EQ(counter_value(*reg_, "wallet_commands_total",
                          {{"command", "deposit"}, {"outcome", "accepted"}}),
            1.0);
  EXPECT_EQ(counter_value(*reg_, "wallet_recovery_scan_failures_total", {{"shard", "0"}}), 1.0);

  auto consumer_log = std::make_shared<counting_consumer_probe>();
  consumer_tee ctee{consumer_log, std::make_shared<consumer_metrics>(reg_)};
  ctee.redelivered(2);
  EXPECT_EQ(consumer_log->calls, 1);
  EXPECT_EQ(counter_value(*reg_, "wallet_nats_redeliveries_total"), 1.0);

  publisher_tee ptee{std::make_shared<nats::publisher_probe>(),
                     std::make_shared<publisher_metrics>(reg_)};
  ptee.published(1, 3);
  EXPECT_EQ(counter_value(*reg_, "wallet_events_published_total", {{"shard", "1"}}), 3.0);
  ptee.taken(1, nats::outbox_source::memory, 4);
  EXPECT_EQ(counter_value(*reg_, "wallet_outbox_events_taken_total", {{"source", "memory"}}), 4.0);

  query_tee qtee{std::make_shared<nats::query_probe>(), std::make_shared<query_metrics>(reg_)};
  qtee.failed("answering a query: x");
  EXPECT_EQ(counter_value(*reg_, "wallet_query_failures_total", {{"what", "reply"}}), 1.0);
}

// A plain HTTP/1.0 GET on 127.0.0.1:port; the whole response, or "" when the socket fails.
std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      std::array<char, 4'096> buffer{};
      for (ssize_t n = 0; (n = ::recv(fd, buffer.data(), buffer.size(), 0)) > 0;) {
        response.append(buffer.data(), static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  return response;
}

TEST_F(metrics_test, http_requests_are_counted_by_route_and_status_once_seen) {
  http_metrics probe{reg_, {"/v1/wallets", "/v1/wallets/{wallet_id}/deposits"}};
  const std::string name = "wallet_http_requests_total";
  const auto answer = [&probe](std::string_view route, unsigned status) {
    probe.answered(http::request_record{"POST",
                                        route,
                                        status,
                                        {},
                                        std::chrono::microseconds{900},
                                        "0af7651916cd43dd8448eb211c80319c"});
  };
  answer("/v1/wallets/{wallet_id}/deposits", 200);
  answer("/v1/wallets/{wallet_id}/deposits", 200);
  answer("/v1/wallets/{wallet_id}/deposits", 503);
  answer("/v1/wallets", 201);
  answer("/v1/unknown/{thing}", 404);  // not a route of the API
  answer("/v1/wallets", 418);          // not a status the API answers
  EXPECT_EQ(counter_value(*reg_, name,
                          {{"route", "/v1/wallets/{wallet_id}/deposits"}, {"status", "200"}}),
            2.0);
  EXPECT_EQ(counter_value(*reg_, name,
                          {{"route", "/v1/wallets/{wallet_id}/deposits"}, {"status", "503"}}),
            1.0);
  EXPECT_EQ(counter_value(*reg_, name, {{"route", "/v1/wallets"}, {"status", "201"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, name, {{"route", "unmatched"}, {"status", "404"}}), 1.0);
  EXPECT_EQ(counter_value(*reg_, name, {{"route", "/v1/wallets"}, {"status", "other"}}), 1.0);
  // Only the pairs seen are series.
  EXPECT_EQ(counter_value(*reg_, name, {{"route", "/v1/wallets"}, {"status", "200"}}), -1.0);
  std::size_t series_count = 0;
  for (const prometheus::MetricFamily& family : reg_->prometheus_registry()->Collect()) {
    if (family.name == name) series_count = family.metric.size();
  }
  EXPECT_EQ(series_count, 5U);
  const auto latency =
      series(*reg_, "wallet_http_request_seconds", {{"route", "/v1/wallets/{wallet_id}/deposits"}});
  ASSERT_TRUE(latency.has_value());
  EXPECT_EQ(latency->histogram.sample_count, 3U);
}

TEST_F(metrics_test, exposer_serves_the_registry_at_metrics) {
  runtime_metrics probe{reg_};
  probe.command_answered("deposit", accepted());
  auto started = exposer::start(reg_, "127.0.0.1", 0);
  ASSERT_TRUE(started.ok()) << started.error().message;
  const std::uint16_t port = started.value()->port();
  ASSERT_NE(port, 0);

  const std::string response = http_get(port, "/metrics");
  EXPECT_NE(response.find("200 OK"), std::string::npos) << response;
  EXPECT_NE(response.find("# TYPE wallet_commands_total counter"), std::string::npos) << response;
  EXPECT_NE(response.find(R"(wallet_commands_total{command="deposit",outcome="accepted"} 1)"),
            std::string::npos)
      << response;
  EXPECT_NE(response.find("wallet_store_commit_seconds_bucket"), std::string::npos);
}

TEST_F(metrics_test, exposer_on_a_busy_port_is_an_error) {
  auto first = exposer::start(reg_, "127.0.0.1", 0);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::uint16_t port = first.value()->port();

  auto second = exposer::start(reg_, "127.0.0.1", port);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << second.error().message;
  // The first still serves.
  EXPECT_NE(http_get(port, "/metrics").find("wallet_commands_total"), std::string::npos);
}

TEST_F(metrics_test, exposer_on_an_address_not_of_this_host_is_an_error) {
  // TEST-NET-1 (RFC 5737): never assigned to a local interface.
  auto started = exposer::start(reg_, "192.0.2.1", 0);
  EXPECT_FALSE(started.ok());
}

}  // namespace
}  // namespace wallet::metrics
