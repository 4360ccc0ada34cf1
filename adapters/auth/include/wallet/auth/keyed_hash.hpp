// SipHash-2-4 (Aumasson and Bernstein, 2012) keyed with a per-process random key: the hash of the
// sharded maps whose keys callers choose (addresses, subjects, token digests), so that no one can
// compute keys that crowd one shard and evict the entries of others.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace wallet::auth::detail {

struct hash_key {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

// The key of this process: drawn from std::random_device once, at first use.
[[nodiscard]] hash_key process_hash_key();

namespace siphash {

constexpr std::uint64_t rotl(std::uint64_t x, unsigned b) { return (x << b) | (x >> (64U - b)); }

struct state {
  std::uint64_t v0, v1, v2, v3;

  constexpr void round() {
    v0 += v1;
    v1 = rotl(v1, 13) ^ v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16) ^ v2;
    v0 += v3;
    v3 = rotl(v3, 21) ^ v0;
    v2 += v1;
    v1 = rotl(v1, 17) ^ v2;
    v2 = rotl(v2, 32);
  }
  constexpr void absorb(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

// Little-endian load of up to 8 bytes.
constexpr std::uint64_t load(std::string_view bytes) {
  std::uint64_t out = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[i])) << (8U * i);
  }
  return out;
}

}  // namespace siphash

// SipHash-2-4 of `data` under `key` (the reference implementation's 64-bit output).
constexpr std::uint64_t siphash24(hash_key key, std::string_view data) {
  siphash::state s{key.k0 ^ 0x736f6d6570736575ULL, key.k1 ^ 0x646f72616e646f6dULL,
                   key.k0 ^ 0x6c7967656e657261ULL, key.k1 ^ 0x7465646279746573ULL};
  std::size_t at = 0;
  for (; at + 8 <= data.size(); at += 8) s.absorb(siphash::load(data.substr(at, 8)));
  // The last block: the remaining bytes, the length's low byte on top.
  s.absorb(siphash::load(data.substr(at)) | (static_cast<std::uint64_t>(data.size()) << 56U));
  s.v2 ^= 0xffU;
  for (int i = 0; i < 4; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

// The hasher of unordered containers keyed by caller-chosen strings.
struct keyed_hash {
  hash_key key = process_hash_key();
  std::size_t operator()(std::string_view text) const noexcept {
    return static_cast<std::size_t>(siphash24(key, text));
  }
};

}  // namespace wallet::auth::detail
