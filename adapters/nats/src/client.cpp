// The NATS connection, JetStream context and the idempotent set-up of streams and consumers.
#include "wallet/nats/client.hpp"

#include <string>
#include <utility>
#include <vector>

namespace wallet::nats {
namespace {

std::int64_t nanoseconds(std::chrono::nanoseconds d) { return d.count(); }

// The closure of the connection callbacks. Owned by the connection: the closed callback is the
// last one the library makes, and frees it (callbacks may run after natsConnection_Destroy).
struct callback_closure {
  std::shared_ptr<connection_events> events;
};

void on_disconnected(natsConnection* /*nc*/, void* closure) {
  const auto* c = static_cast<callback_closure*>(closure);
  if (c->events->on_change) c->events->on_change(false);
}

void on_reconnected(natsConnection* /*nc*/, void* closure) {
  const auto* c = static_cast<callback_closure*>(closure);
  if (c->events->on_change) c->events->on_change(true);
}

void on_closed(natsConnection* /*nc*/, void* closure) {
  auto* c = static_cast<callback_closure*>(closure);
  delete c;  // NOLINT(cppcoreguidelines-owning-memory): the library hands it back exactly once
}

void on_error(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsStatus status, void* closure) {
  const auto* c = static_cast<callback_closure*>(closure);
  if (c->events->on_error) c->events->on_error(natsStatus_GetText(status));
}

struct options_deleter {
  void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};

struct stream_info_deleter {
  void operator()(jsStreamInfo* i) const noexcept { jsStreamInfo_Destroy(i); }
};

struct consumer_info_deleter {
  void operator()(jsConsumerInfo* i) const noexcept { jsConsumerInfo_Destroy(i); }
};

struct pub_ack_deleter {
  void operator()(jsPubAck* a) const noexcept { jsPubAck_Destroy(a); }
};

std::optional<nats_error> ensure_stream(jsCtx* js, const std::string& name,
                                        const std::vector<std::string>& subjects,
                                        const stream_limits& limits, const nats_settings& s,
                                        std::int32_t message_bytes_max, bool deduplicate) {
  std::vector<const char*> subject_ptrs;
  subject_ptrs.reserve(subjects.size());
  for (const auto& subject : subjects) subject_ptrs.push_back(subject.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subject_ptrs.data();
  cfg.SubjectsLen = static_cast<int>(subject_ptrs.size());
  cfg.Retention = js_LimitsPolicy;
  cfg.Storage = s.memory_storage ? js_MemoryStorage : js_FileStorage;
  cfg.Replicas = s.replicas;
  cfg.MaxAge = nanoseconds(limits.max_age);
  cfg.MaxBytes = limits.max_bytes;
  cfg.MaxMsgSize = message_bytes_max;
  cfg.Discard = js_DiscardOld;
  cfg.DenyDelete = true;  // a record of what happened, not a queue to edit
  if (deduplicate) cfg.Duplicates = nanoseconds(s.duplicate_window);
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  natsStatus status = js_AddStream(&info, js, &cfg, nullptr, &code);
  if (status == NATS_ERR && code == JSStreamNameExistErr) {
    status = js_UpdateStream(&info, js, &cfg, nullptr, &code);  // exists with other settings
  }
  const std::unique_ptr<jsStreamInfo, stream_info_deleter> owned{info};
  if (status != NATS_OK) {
    auto e = failure("creating or updating stream " + name, status);
    e.transient = status != NATS_ERR;
    return e;
  }
  return std::nullopt;
}

}  // namespace

nats_error failure(std::string_view doing, natsStatus status) {
  std::string message{doing};
  message.append(": ").append(natsStatus_GetText(status));
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == status) {
    message.append(" (").append(detail).append(")");
  }
  return nats_error{std::move(message), true};
}

engine::result<std::unique_ptr<client>, nats_error> client::connect(const nats_settings& settings,
                                                                    connection_events events) {
  std::unique_ptr<client> c{
      new client(settings, std::make_shared<connection_events>(std::move(events)))};
  natsOptions* raw = nullptr;
  if (const natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return failure("creating NATS options", s);
  }
  const std::unique_ptr<natsOptions, options_deleter> opts{raw};
  auto* closure = new callback_closure{c->events_};  // NOLINT(cppcoreguidelines-owning-memory)
  natsStatus s = natsOptions_SetURL(opts.get(), settings.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(opts.get(), settings.connection_name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.get(), -1);  // never give up
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts.get(), 500);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts.get(), on_disconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts.get(), on_reconnected, closure);
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts.get(), on_closed, closure);
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts.get(), on_error, closure);
  if (s == NATS_OK && settings.send_asap) s = natsOptions_SetSendAsap(opts.get(), true);
  if (s == NATS_OK) {
    // Keep trying in the background when the server is not up yet; readiness says so meanwhile.
    s = natsOptions_SetRetryOnFailedConnect(opts.get(), true, on_reconnected, closure);
  }
  if (s == NATS_OK && !settings.credentials_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(opts.get(), settings.credentials_file.c_str(),
                                                nullptr);
  }
  if (s != NATS_OK) {
    delete closure;  // NOLINT(cppcoreguidelines-owning-memory): no connection ever saw it
    auto e = failure("setting NATS options", s);
    e.transient = false;
    return e;
  }
  s = natsConnection_Connect(&c->conn_, opts.get());
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    if (c->conn_ == nullptr) delete closure;  // NOLINT(cppcoreguidelines-owning-memory)
    return failure("connecting to " + settings.url, s);
  }
  jsOptions js_opts;
  jsOptions_Init(&js_opts);
  js_opts.Wait = settings.request_timeout.count();
  if (s = natsConnection_JetStream(&c->js_, c->conn_, &js_opts); s != NATS_OK) {
    return failure("creating the JetStream context", s);
  }
  return c;
}

engine::result<connection_ptr, nats_error> client::connect_once(std::string_view role) const {
  natsOptions* raw = nullptr;
  if (const natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return failure("creating NATS options", s);
  }
  const std::unique_ptr<natsOptions, options_deleter> opts{raw};
  const std::string name = settings_.connection_name + "-" + std::string{role};
  natsStatus s = natsOptions_SetURL(opts.get(), settings_.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(opts.get(), name.c_str());
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts.get(), false);
  if (s == NATS_OK && !settings_.credentials_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(opts.get(), settings_.credentials_file.c_str(),
                                                nullptr);
  }
  if (s != NATS_OK) {
    auto e = failure("setting NATS options", s);
    e.transient = false;
    return e;
  }
  natsConnection* nc = nullptr;
  if (s = natsConnection_Connect(&nc, opts.get()); s != NATS_OK) {
    natsConnection_Destroy(nc);
    return failure("connecting to " + settings_.url + " (" + name + ")", s);
  }
  return connection_ptr{nc};
}

client::~client() {
  jsCtx_Destroy(js_);  // before the connection it uses
  natsConnection_Destroy(conn_);
}

bool client::connected() const noexcept {
  return conn_ != nullptr && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

std::optional<nats_error> client::publish_stored(natsMsg* msg) const {
  jsPubAck* ack = nullptr;
  jsErrCode code{};
  const natsStatus s = js_PublishMsg(&ack, js_, msg, nullptr, &code);
  const std::unique_ptr<jsPubAck, pub_ack_deleter> owned{ack};
  if (s != NATS_OK) {
    return failure(std::string{"publishing to "} + natsMsg_GetSubject(msg), s);
  }
  return std::nullopt;
}

std::optional<nats_error> ensure_streams(const client& c) {
  const nats_settings& s = c.settings();
  const std::string commands = s.partitioned ? s.prefix + ".cmdp.*.*" : s.prefix + ".cmd.*";
  const std::string legs = s.partitioned ? s.prefix + ".sysp.*.*" : s.prefix + ".sys.*";
  if (auto e = ensure_stream(c.jetstream(), s.command_stream, {commands, legs}, s.command_limits, s,
                             s.message_bytes_max, true)) {
    return e;
  }
  if (auto e = ensure_stream(c.jetstream(), s.event_stream, {s.prefix + ".evt.*"}, s.event_limits,
                             s, -1, true)) {
    return e;
  }
  // Dead letters carry the refused message as it came, plus headers: allow for both.
  return ensure_stream(c.jetstream(), s.dead_letter_stream, {s.prefix + ".dlq.>"},
                       s.dead_letter_limits, s, -1, false);
}

engine::result<std::string, nats_error> ensure_command_consumer(const client& c,
                                                                std::uint32_t shard, bool system) {
  const nats_settings& s = c.settings();
  const std::string base = system ? "walletd-sys" : "walletd-cmd";
  const std::string name = s.partitioned ? base + "-" + std::to_string(shard) : base;
  const std::string filter = system ? system_filter(s, shard) : command_filter(s, shard);
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = name.c_str();
  cfg.Description = system ? "walletd commands of other instances" : "walletd commands";
  cfg.FilterSubject = filter.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.DeliverPolicy = js_DeliverAll;
  cfg.AckWait = nanoseconds(s.ack_wait);
  // No server-side limit: the engine dead-letters a message after deliveries_max itself, so a
  // message is never dropped without a dead letter.
  cfg.MaxDeliver = -1;
  cfg.MaxAckPending = s.ack_pending_max;
  jsConsumerInfo* info = nullptr;
  jsErrCode code{};
  const natsStatus status =
      js_AddConsumer(&info, c.jetstream(), s.command_stream.c_str(), &cfg, nullptr, &code);
  const std::unique_ptr<jsConsumerInfo, consumer_info_deleter> owned{info};
  if (status != NATS_OK) {
    auto e = failure("creating or updating consumer " + name, status);
    e.transient = status != NATS_ERR;
    return e;
  }
  return name;
}

msg_ptr make_msg(const std::string& subject, std::string_view data) {
  natsMsg* m = nullptr;
  if (natsMsg_Create(&m, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) !=
      NATS_OK) {
    return nullptr;
  }
  return msg_ptr{m};
}

std::string header_of(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return {};
  return value;
}

}  // namespace wallet::nats
