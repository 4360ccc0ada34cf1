// Every limit of the domain core, named with its qualifier last. Runtime settings live in config/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace wallet::engine {

// Identifiers: wallet, owner, transfer and hold ids and idempotency keys are 1..N bytes of
// [A-Za-z0-9._:-]. The wallet id also appears in NATS subjects, hence the conservative alphabet.
inline constexpr std::size_t wallet_id_length_max = 64;
inline constexpr std::size_t owner_id_length_max = 64;
inline constexpr std::size_t transfer_id_length_max = 64;
inline constexpr std::size_t hold_id_length_max = 64;
// Keys the engine derives for transfer legs hold a prefix, the source wallet id and the transfer
// id.
inline constexpr std::size_t idempotency_key_length_max = 192;
inline constexpr std::size_t reason_length_max = 256;

// A decimal amount text, e.g. "9223372036854775.807": int64 has 19 digits, plus a point.
inline constexpr std::size_t amount_text_length_max = 32;

// The largest amount a single command may move, and the largest overdraft limit a wallet may have.
// Kept well below int64 so that a balance, its holds and its overdraft can be combined in checked
// arithmetic without ever hitting the type's edge on a single step.
inline constexpr std::int64_t amount_minor_max = 1'000'000'000'000'000;  // 10^15 minor units
inline constexpr std::int64_t overdraft_limit_max = amount_minor_max;
inline constexpr std::int64_t balance_minor_max = std::numeric_limits<std::int64_t>::max() / 4;

// The daily outgoing total saturates here instead of overflowing: any daily limit is at most this,
// so a saturated total refuses every further outgoing move that day under a limit.
inline constexpr std::int64_t outgoing_total_max = std::numeric_limits<std::int64_t>::max();

// Open holds per wallet: each is resident in the wallet's state.
inline constexpr std::size_t holds_per_wallet_max = 1'024;

// Idempotency records resident per wallet (ADR 0017): the default of
// runtime.idempotency_keys_resident, and the largest value it takes. Past it the oldest record
// leaves memory (it stays in the store until its retention ends) and its key joins the wallet's
// evicted-key filter (evicted_keys.hpp); a command is never refused for it.
inline constexpr std::size_t idempotency_keys_resident_default = 65'536;
inline constexpr std::size_t idempotency_keys_resident_max = 1'048'576;

// The evicted-key filter (ADR 0017): one Bloom filter per slice of time, a slice spanning at most
// 1/evicted_filter_slices_per_retention of the retention and holding at most
// evicted_filter_keys_per_slice keys at evicted_filter_bits_per_key bits each (256 KiB a slice;
// 8 bits set per key). A key is checked against every slice: a wallet that evicted a million keys
// (16 slices) sends about 0.3% of its new keys to the store as false positives (engine_bench
// bm_handle_deposit_evicting). A slice is dropped once its newest key has expired. At most
// evicted_filter_slices_max slices (8 MiB) per wallet: past it (over 2 million evicted keys within
// the retention) the newest slice takes more keys than it was sized for, which raises its false
// positives (more lookups), never its misses.
inline constexpr std::size_t evicted_filter_slices_per_retention = 16;
inline constexpr std::size_t evicted_filter_keys_per_slice = 65'536;
inline constexpr std::size_t evicted_filter_bits_per_key = 32;
inline constexpr std::size_t evicted_filter_hashes = 8;
inline constexpr std::size_t evicted_filter_slices_max = 32;
inline constexpr std::size_t evicted_filter_block_bits = 512;  // a key's bits share a cache line

static_assert(amount_minor_max > 0 && overdraft_limit_max > 0);
static_assert(amount_minor_max <= balance_minor_max, "a single amount must fit in a balance");
static_assert(balance_minor_max + overdraft_limit_max + amount_minor_max <=
                  std::numeric_limits<std::int64_t>::max(),
              "balance + overdraft + one amount must not overflow int64");
static_assert(idempotency_key_length_max >= 32 + wallet_id_length_max + transfer_id_length_max,
              "a transfer leg's key (prefix, source wallet, transfer id) must fit");
static_assert(idempotency_keys_resident_default <= idempotency_keys_resident_max);
static_assert(evicted_filter_hashes <= evicted_filter_block_bits);
static_assert((evicted_filter_keys_per_slice * evicted_filter_bits_per_key) %
                      evicted_filter_block_bits ==
                  0,
              "a slice is whole blocks");

}  // namespace wallet::engine
