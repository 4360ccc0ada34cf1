// wallet-token: mints what tests of walletd's HTTP API need — signing keys, the JWK Set walletd
// reads (auth.jwks_file), signed tokens, self-signed TLS certificates. A test tool: it signs with
// keys it writes in the clear, which no issuer would do.
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "wallet/auth/testing.hpp"

namespace {

namespace json = boost::json;
using wallet::auth::testing::signing_key;

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;
constexpr std::int64_t default_ttl_s = 300;

constexpr std::string_view usage = R"(usage:
  wallet-token keygen rsa|ec KEY.pem
      Write a new private key (RSA 2048 for RS256, EC P-256 for ES256) as PEM, mode 0600.
  wallet-token jwks KEY.pem KID [KEY.pem KID ...]
      Print a JWK Set holding the public half of each key under its kid (for auth.jwks_file).
  wallet-token sign KEY.pem --iss=ISSUER --aud=AUDIENCE --sub=SUBJECT [options]
      Print a signed token (RS256 for an RSA key, ES256 for an EC key). Options:
        --kid=KID          header kid (default: none)
        --aud=AUDIENCE     repeat for an array of audiences
        --roles=R1,R2      "roles" array (read, write, admin, service); default: none
        --scope=TEXT       "scope" string, e.g. "wallet:read wallet:write"
        --now=EPOCH_S      the time the token is made at (default: this host's clock)
        --ttl-s=N          exp = now + N (default 300; negative: already expired)
        --nbf-s=N          nbf = now + N (default: no nbf)
        --iat-s=N          iat = now + N (default: iat = now)
        --claims=JSON      an object merged into the claims last; a null member removes one
        --header=JSON      an object merged into the header last (e.g. {"alg":"HS256"})
  wallet-token cert KEY.pem [SUBJECT_ALT_NAMES]
      Print a self-signed certificate for the key (default "DNS:localhost,IP:127.0.0.1").
exit status: 0 done, 1 a file could not be read or written, 2 bad usage
)";

int usage_error(std::string_view why) {
  std::cerr << "wallet-token: " << why << "\n" << usage;
  return exit_usage;
}

bool read_key(const std::string& path, std::optional<signing_key>& key) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  auto parsed = signing_key::from_pem(text.str());
  if (!in || !parsed) {
    std::cerr << "wallet-token: " << path << ": "
              << (in ? parsed.error().what : std::string("cannot be read")) << "\n";
    return false;
  }
  key.emplace(std::move(parsed).value());
  return true;
}

int keygen(const std::vector<std::string>& args) {
  if (args.size() != 2 || (args[0] != "rsa" && args[0] != "ec")) {
    return usage_error("keygen takes rsa|ec and a file");
  }
  const signing_key key = args[0] == "rsa" ? signing_key::rsa() : signing_key::ec_p256();
  {
    std::ofstream out(args[1], std::ios::binary | std::ios::trunc);
    if (!out) {
      std::cerr << "wallet-token: " << args[1] << ": cannot be written\n";
      return exit_failure;
    }
  }
  namespace fs = std::filesystem;
  // Owner-only before the key is in it.
  fs::permissions(args[1], fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream out(args[1], std::ios::binary | std::ios::trunc);
  out << key.private_pem();
  return out ? 0 : exit_failure;
}

int jwks(const std::vector<std::string>& args) {
  if (args.empty() || args.size() % 2 != 0) return usage_error("jwks takes KEY.pem KID pairs");
  std::vector<json::object> keys;
  for (std::size_t i = 0; i < args.size(); i += 2) {
    std::optional<signing_key> key;
    if (!read_key(args[i], key)) return exit_failure;
    keys.push_back(key->public_jwk(args[i + 1]));
  }
  std::cout << wallet::auth::testing::jwks_document(keys) << "\n";
  return 0;
}

struct sign_options {
  std::string kid;
  json::object claims;
  json::array audiences;
  json::object extra_claims;
  json::object extra_header;
  std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  std::int64_t ttl_s = default_ttl_s;
  std::optional<std::int64_t> nbf_s;
  std::int64_t iat_s = 0;
};

std::optional<json::object> json_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::optional<std::int64_t> integer(std::string_view text) {
  try {
    std::size_t used = 0;
    const long long n = std::stoll(std::string(text), &used);
    if (used == text.size()) return n;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// One --name=value option; false when it is not one this tool knows or its value is bad.
bool apply_option(std::string_view arg, sign_options& o) {
  const std::size_t eq = arg.find('=');
  if (!arg.starts_with("--") || eq == std::string_view::npos) return false;
  const std::string_view name = arg.substr(2, eq - 2);
  const std::string value(arg.substr(eq + 1));
  if (name == "kid") o.kid = value;
  if (name == "iss" || name == "sub" || name == "scope") o.claims[name] = value;
  if (name == "aud") o.audiences.emplace_back(value);
  if (name == "roles") {
    json::array roles;
    for (std::size_t start = 0; start < value.size();) {
      const std::size_t end = std::min(value.find(',', start), value.size());
      if (end > start) roles.emplace_back(value.substr(start, end - start));
      start = end + 1;
    }
    o.claims["roles"] = std::move(roles);
  }
  if (name == "claims" || name == "header") {
    auto object = json_object(value);
    if (!object) return false;
    (name == "claims" ? o.extra_claims : o.extra_header) = std::move(*object);
  }
  if (name == "now" || name == "ttl-s" || name == "nbf-s" || name == "iat-s") {
    const auto n = integer(value);
    if (!n) return false;
    if (name == "now") o.now = *n;
    if (name == "ttl-s") o.ttl_s = *n;
    if (name == "nbf-s") o.nbf_s = *n;
    if (name == "iat-s") o.iat_s = *n;
  }
  static constexpr std::string_view known[] = {"kid", "iss",   "sub",    "scope",
                                               "aud", "roles", "claims", "header",
                                               "now", "ttl-s", "nbf-s",  "iat-s"};
  return std::find(std::begin(known), std::end(known), name) != std::end(known);
}

void merge(json::object& into, const json::object& from) {
  for (const auto& [name, value] : from) {
    if (value.is_null()) {
      into.erase(name);
    } else {
      into[name] = value;
    }
  }
}

int sign(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("sign takes a key file");
  sign_options o;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (!apply_option(args[i], o)) return usage_error("bad option " + args[i]);
  }
  if (!o.claims.contains("iss") || o.audiences.empty() || !o.claims.contains("sub")) {
    return usage_error("sign needs --iss, --aud and --sub");
  }
  std::optional<signing_key> key;
  if (!read_key(args[0], key)) return exit_failure;
  json::object claims = o.claims;
  claims["aud"] = o.audiences.size() == 1 ? o.audiences[0] : json::value(o.audiences);
  claims["iat"] = o.now + o.iat_s;
  claims["exp"] = o.now + o.ttl_s;
  if (o.nbf_s) claims["nbf"] = o.now + *o.nbf_s;
  merge(claims, o.extra_claims);
  json::object header{{"alg", wallet::auth::name(key->alg())}, {"typ", "JWT"}};
  if (!o.kid.empty()) header["kid"] = o.kid;
  merge(header, o.extra_header);
  std::cout << wallet::auth::testing::sign_compact(*key, json::serialize(header),
                                                   json::serialize(claims))
            << "\n";
  return 0;
}

int cert(const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2) return usage_error("cert takes a key file and names");
  std::optional<signing_key> key;
  if (!read_key(args[0], key)) return exit_failure;
  std::cout << (args.size() == 2 ? wallet::auth::testing::self_signed_certificate(*key, args[1])
                                 : wallet::auth::testing::self_signed_certificate(*key));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> all(argv + 1, argv + argc);
  if (all.empty() || all[0] == "--help" || all[0] == "-h") {
    std::cout << usage;
    return all.empty() ? exit_usage : 0;
  }
  const std::vector<std::string> args(all.begin() + 1, all.end());
  try {
    if (all[0] == "keygen") return keygen(args);
    if (all[0] == "jwks") return jwks(args);
    if (all[0] == "sign") return sign(args);
    if (all[0] == "cert") return cert(args);
  } catch (const std::exception& e) {
    std::cerr << "wallet-token: " << e.what() << "\n";
    return exit_failure;
  }
  return usage_error("unknown command " + all[0]);
}
