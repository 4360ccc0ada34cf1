// Base64url without padding (RFC 4648 §5, as JWS and JWK use it), decoded strictly: a text has
// exactly one decoding and a decoding exactly one text, so a token cannot be re-spelt.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wallet::auth {

[[nodiscard]] std::string base64url_encode(std::string_view bytes);

// Nothing when `text` holds a character outside [A-Za-z0-9_-] (padding '=' included), has a
// length that is 1 modulo 4, or leaves non-zero bits past its last whole byte.
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace wallet::auth
