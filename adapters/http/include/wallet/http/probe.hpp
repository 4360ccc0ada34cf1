// What the HTTP adapter reports: one record per answered request (walletd logs it as one JSON line
// and counts it in /metrics), refused connections and I/O failures. Called concurrently from the
// server's threads and the engine's: implementations must be thread-safe and quick.
#pragma once

#include <chrono>
#include <string_view>

namespace wallet::http {

struct request_record {
  std::string_view method;  // "GET"
  std::string_view route;   // the route's pattern, "/v1/wallets/{wallet_id}"; "unmatched" else
  unsigned status = 0;      // the HTTP status answered
  std::string_view code;    // the problem code of an error answer, else empty
  std::chrono::microseconds latency{0};  // from the whole request read to the response handed over
  std::string_view trace_id;             // the request's trace (continued from traceparent or new)
};

class probe {
 public:
  probe() = default;
  probe(const probe&) = delete;
  probe& operator=(const probe&) = delete;
  probe(probe&&) = delete;
  probe& operator=(probe&&) = delete;
  virtual ~probe() = default;

  virtual void answered(const request_record& /*record*/) {}
  // A connection arrived with http.connections_max open: answered 503 (TLS: closed) at once.
  virtual void connection_refused() {}
  // An I/O or read failure that no response reports: accepting, a TLS handshake, a database read.
  virtual void failed(std::string_view /*what*/, std::string_view /*detail*/) {}
};

}  // namespace wallet::http
