// A one-thread HTTP (or HTTPS) server on 127.0.0.1 and an ephemeral port that answers every GET
// with the status and body it was last told to: the issuer's JWKS endpoint in tests.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace wallet::auth::testing {

struct tls_identity {
  std::string certificate_pem;
  std::string private_key_pem;
};

class jwks_server {
 public:
  explicit jwks_server(std::optional<tls_identity> tls = std::nullopt);
  ~jwks_server();
  jwks_server(const jwks_server&) = delete;
  jwks_server& operator=(const jwks_server&) = delete;
  jwks_server(jwks_server&&) = delete;
  jwks_server& operator=(jwks_server&&) = delete;

  // What the next requests get.
  void respond(unsigned status, std::string body);
  // The next requests get no answer at all (the connection stays open): a hung issuer.
  void hang();

  [[nodiscard]] std::uint16_t port() const;
  // http(s)://<host>:<port>/jwks.json
  [[nodiscard]] std::string url(const std::string& host = "127.0.0.1") const;
  // Requests answered or hung so far.
  [[nodiscard]] std::size_t requests() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace wallet::auth::testing
