// The HTTP API inside walletd.
#include "http_host.hpp"

#include "wallet/auth/authenticator.hpp"
#include "wallet/auth/rate_limiter.hpp"
#include "wallet/auth/settings.hpp"
#include "wallet/metrics/http_metrics.hpp"
#include "wallet/postgres/conninfo.hpp"
#include "wallet/postgres/database.hpp"

namespace wallet::app {
namespace {

// One JSON line per answered request, beside the metrics. Only the route's pattern is logged:
// never a path (wallet and owner ids), a token, a body or a client address.
class http_log final : public http::probe {
 public:
  http_log(logging::logger log, std::shared_ptr<http::probe> metrics)
      : log_(std::move(log)), metrics_(std::move(metrics)) {}

  void answered(const http::request_record& r) override {
    metrics_->answered(r);
    log_.log(r.status >= 500 ? logging::level::warn : logging::level::info, "http request",
             {{"trace_id", r.trace_id},
              {"method", r.method},
              {"route", r.route},
              {"status", r.status},
              {"latency_us", r.latency.count()},
              {"code", r.code}});
  }
  void connection_refused() override {
    metrics_->connection_refused();
    log_.warn("HTTP connection refused: http.connections_max connections are open");
  }
  void failed(std::string_view what, std::string_view detail) override {
    metrics_->failed(what, detail);
    log_.error("HTTP failure", {{"what", what}, {"detail", detail}});
  }

 private:
  logging::logger log_;
  std::shared_ptr<http::probe> metrics_;
};

auth::jwt_settings jwt_settings_from(const config::config& cfg) {
  auth::jwt_settings s;
  s.mode = cfg.text("auth.mode") == "off" ? auth::auth_mode::off : auth::auth_mode::jwt;
  s.issuer = cfg.text("auth.issuer");
  s.audience = cfg.text("auth.audience");
  s.jwks_file = cfg.text("auth.jwks_file");
  s.jwks_url = cfg.text("auth.jwks_url");
  s.jwks_ca_file = cfg.text("auth.jwks_ca_file");
  s.jwks_refresh = std::chrono::seconds{cfg.integer("auth.jwks_refresh_s")};
  s.jwks_refresh_min = std::chrono::seconds{cfg.integer("auth.jwks_refresh_min_s")};
  s.jwks_fetch_timeout = std::chrono::milliseconds{cfg.integer("auth.jwks_fetch_timeout_ms")};
  s.leeway = std::chrono::seconds{cfg.integer("auth.leeway_s")};
  s.roles_claim = cfg.text("auth.roles_claim");
  s.token_cache_max = static_cast<std::size_t>(cfg.integer("auth.token_cache_max"));
  return s;
}

auth::bucket_settings bucket(std::int64_t burst, std::int64_t per_second, std::int64_t keys_max) {
  return auth::bucket_settings{burst, per_second, static_cast<std::size_t>(keys_max)};
}

http::server_settings server_settings_from(const config::config& cfg) {
  http::server_settings s;
  s.address = cfg.text("http.listen_address");
  s.port = static_cast<std::uint16_t>(cfg.integer("http.port"));
  s.threads = static_cast<std::size_t>(cfg.integer("http.threads"));
  s.connections_max = static_cast<std::size_t>(cfg.integer("http.connections_max"));
  s.header_bytes_max = static_cast<std::uint32_t>(cfg.integer("http.header_bytes_max"));
  s.body_bytes_max = static_cast<std::uint64_t>(cfg.integer("http.body_bytes_max"));
  s.idle_timeout = std::chrono::milliseconds{cfg.integer("http.idle_timeout_ms")};
  s.read_timeout = std::chrono::milliseconds{cfg.integer("http.read_timeout_ms")};
  s.write_timeout = std::chrono::milliseconds{cfg.integer("http.write_timeout_ms")};
  s.tls_cert_file = cfg.text("http.tls_cert_file");
  s.tls_key_file = cfg.text("http.tls_key_file");
  return s;
}

}  // namespace

http_host::http_host(const config::config& cfg, logging::logger log, actors::runtime& runtime,
                     std::string conninfo, std::shared_ptr<metrics::registry> metrics,
                     std::function<bool()> nats_serving)
    : cfg_(cfg),
      log_(std::move(log)),
      runtime_(runtime),
      conninfo_(std::move(conninfo)),
      metrics_(std::move(metrics)),
      nats_serving_(std::move(nats_serving)) {}

http_host::~http_host() { stop(std::chrono::milliseconds{0}); }

bool http_host::make_auth() {
  auto made = auth::make_authenticator(jwt_settings_from(cfg_), log_);
  if (!made.ok()) {
    log_.error("cannot set up authentication for the HTTP API",
               {{"error", made.error()},
                {"hint",
                 "configure auth.issuer, auth.audience and auth.jwks_file or "
                 "auth.jwks_url; auth.mode=off is for development only"}});
    return false;
  }
  authenticator_ = std::move(made).value();
  if (cfg_.text("auth.mode") == "off") {
    log_.error(
        "AUTHENTICATION IS OFF (auth.mode=off): every HTTP caller is an administrator. "
        "Development only; never expose this walletd.");
  }
  const auto keys_max = cfg_.integer("rate_limit.keys_max");
  principal_limits_ =
      auth::make_rate_limiter(bucket(cfg_.integer("rate_limit.principal_burst"),
                                     cfg_.integer("rate_limit.principal_per_second"), keys_max));
  address_limits_ =
      auth::make_rate_limiter(bucket(cfg_.integer("rate_limit.address_burst"),
                                     cfg_.integer("rate_limit.address_per_second"), keys_max));
  return true;
}

bool http_host::start() {
  if (!make_auth()) return false;
  http::pg_reader_settings reads;
  reads.conninfo = conninfo_;
  reads.connections = static_cast<std::size_t>(cfg_.integer("http.read_connections"));
  reads.queue_max = static_cast<std::size_t>(cfg_.integer("http.read_queue_max"));
  if (const std::string& replica = cfg_.text("postgres.replica_url"); !replica.empty()) {
    postgres::connection_options options;
    options.url = replica;
    options.password_file = cfg_.text("postgres.password_file");
    options.sslmode = cfg_.text("postgres.sslmode");
    options.application_name = "walletd-http-replica";
    auto conninfo = postgres::make_conninfo(options);
    if (!conninfo.ok()) {
      log_.error("cannot build the replica connection (postgres.replica_url)",
                 {{"detail", conninfo.error().detail}});
      return false;
    }
    reads.replica_conninfo = std::move(conninfo).value();
  }
  auto metrics = std::make_shared<metrics::http_metrics>(metrics_, http::api::route_patterns());
  auto events = std::make_shared<http_log>(log_, metrics);
  reads_ = std::make_shared<http::pg_reader>(
      std::move(reads), [events](std::string_view detail) { events->failed("database", detail); });
  admin_ = std::make_shared<http::pg_admin>(
      conninfo_, [events](std::string_view detail) { events->failed("database", detail); });

  http::api_settings settings;
  settings.page_limit_max = static_cast<std::size_t>(cfg_.integer("http.page_limit_max"));
  settings.owner_cache_max = static_cast<std::size_t>(cfg_.integer("http.owner_cache_max"));
  http::api_ports ports;
  ports.submit = [&rt = runtime_](engine::command cmd, actors::command_context context,
                                  std::function<void(actors::submit_outcome)> done) {
    rt.submit(std::move(cmd), std::move(context), std::move(done));
  };
  ports.submit_review = [&rt = runtime_](engine::command cmd, actors::command_context context,
                                         std::function<void(actors::submit_outcome)> done) {
    rt.submit_review_decision(std::move(cmd), std::move(context), std::move(done));
  };
  ports.flags = [&rt = runtime_] { return rt.compliance().flags(); };
  ports.set_flags = [&rt = runtime_](std::shared_ptr<const engine::feature_flags> f) {
    rt.compliance().set_flags(std::move(f));
  };
  ports.reads = reads_;
  ports.admin = admin_;
  ports.authenticator = authenticator_.get();
  ports.principal_limits = principal_limits_.get();
  ports.address_limits = address_limits_.get();
  ports.readiness = {
      {"nats", nats_serving_},
      {"circuit", [&rt = runtime_] { return rt.circuit() == actors::circuit_state::closed; }},
      {"runtime", [&rt = runtime_] { return !rt.failure().has_value(); }},
  };
  ports.schema_version_expected = postgres::embedded_migrations().back().version;
  ports.metrics_text = [registry = metrics_] { return metrics::exposition(*registry); };
  ports.events = events;
  api_ = std::make_unique<http::api>(settings, std::move(ports));

  auto started = http::server::start(
      server_settings_from(cfg_),
      [api = api_.get()](http::request req, http::responder respond) {
        api->handle(std::move(req), std::move(respond));
      },
      events);
  if (!started.ok()) {
    log_.error("walletd cannot serve the HTTP API (is http.port taken?)",
               {{"error", started.error().message}});
    reads_->stop();
    admin_->stop();
    return false;
  }
  server_ = std::move(started).value();
  log_.info("HTTP API serving", {{"address", cfg_.text("http.listen_address")},
                                 {"port", server_->port()},
                                 {"tls", server_->tls()},
                                 {"auth_mode", cfg_.text("auth.mode")},
                                 {"replica", !cfg_.text("postgres.replica_url").empty()}});
  return true;
}

void http_host::stop_accepting() {
  if (server_) server_->stop_accepting();
}

void http_host::stop(std::chrono::milliseconds grace) {
  if (server_) server_->stop(grace);
  if (reads_) reads_->stop();
  if (admin_) admin_->stop();
}

}  // namespace wallet::app
