// Every message the runtime's actors exchange, the typed interfaces built from them, and their
// registration with CAF — in one place. Messages are local only (they carry callbacks).
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wallet/actors/outcome.hpp"
#include "wallet/actors/screening.hpp"
#include "wallet/actors/store_port.hpp"
#include "wallet/engine/command.hpp"

namespace wallet::actors {

// A command on its way to its wallet. `internal` marks the engine's own commands (saga legs,
// expiries): they skip the runtime's admission limit, since refusing them would stall money in
// flight.
struct submission {
  engine::command cmd;
  completion done;
  bool internal = false;
  command_context context;
  // The store holds no record of the command's key, which the wallet's evicted-key filter may hold
  // (ADR 0017): it is decided as a new command.
  bool key_absent = false;
};

// The store's answer to a load.
struct load_result {
  engine::result<loaded_wallet, store_error> loaded;
};

// The store's answer to a key lookup (ADR 0017) the wallet asked in `epoch`: the stored record of
// the key, none, or why it could not tell.
struct key_looked_up {
  std::uint64_t epoch = 0;
  engine::result<std::optional<engine::idempotency_record>, store_error> found;
};

// The store committed the next `count` writes that the wallet sent in `epoch`.
struct commit_ack {
  std::uint64_t epoch = 0;
  std::size_t count = 0;
};

// The store could not commit a batch holding writes of the wallet's `epoch`: none of that epoch's
// uncommitted writes will ever commit. `culprit`: the database refused the first of them itself
// (a constraint: retrying cannot help); the others merely followed it.
struct commit_nack {
  std::uint64_t epoch = 0;
  store_error error;
  bool culprit = false;
};

// A screening provider's answer to the wallet's screening number `id` (ADR 0007).
struct screened {
  std::uint64_t id = 0;
  screening_answer answer;
};

using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using screen_deadline_atom = caf::atom_constant<caf::atom("amldead")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using flush_atom = caf::atom_constant<caf::atom("wflush")>;
using scan_atom = caf::atom_constant<caf::atom("scan")>;
// The router asks an idle wallet to hand over its state and stop (ADR 0010).
using dormant_atom = caf::atom_constant<caf::atom("dormant")>;

// One wallet: serializes its commands through the engine and answers each after its commit.
using wallet_actor = caf::typed_actor<
    caf::reacts_to<submission>, caf::reacts_to<load_result>, caf::reacts_to<commit_ack>,
    caf::reacts_to<commit_nack>, caf::reacts_to<passivate_atom>, caf::reacts_to<dormant_atom>,
    caf::reacts_to<reload_atom>, caf::reacts_to<expire_atom, std::string>, caf::reacts_to<screened>,
    caf::reacts_to<screen_deadline_atom, std::uint64_t>, caf::reacts_to<key_looked_up>>;

struct load_request {
  std::string wallet_id;
  engine::timestamp keys_since;
  wallet_actor reply_to;
  // Set when the AML velocity window must be rebuilt: the outgoing moves since then are loaded too.
  std::optional<engine::timestamp> outgoing_since{};
  engine::idempotency_bounds bounds{};
};

// A wallet asks for the stored record of a key its evicted-key filter may hold (ADR 0017). Like a
// load, it waits for the wallet's writes queued or being committed: the key may be among them.
struct key_lookup_request {
  std::string wallet_id;
  std::string key;
  engine::timestamp since;  // records older than this are expired
  std::uint64_t epoch = 0;
  wallet_actor reply_to;
};

struct append_request {
  wallet_write write;
  std::uint64_t epoch = 0;
  wallet_actor reply_to;
  std::chrono::steady_clock::time_point sent{};  // by the wallet: the store's wait is timed from it
};

// The wallet `wallet_id` (incarnation `generation`) has answered `answered` routed commands.
struct wallet_idle {
  std::string wallet_id;
  std::uint64_t generation = 0;
  std::uint64_t answered = 0;
};

// What a dormant wallet keeps (ADR 0010): the aggregate (state and idempotency window) and the
// AML velocity window. Everything else of the actor is rebuilt empty when it wakes.
struct dormant_wallet;

// The wallet's answer to dormant_atom: its state when it went dormant (and stopped), null when it
// could not (something pending or a hold with a timer) and goes on living.
struct wallet_dormant {
  std::string wallet_id;
  std::uint64_t generation = 0;
  std::shared_ptr<dormant_wallet> state;
};

// Per-shard persistence (detached: it blocks on PostgreSQL): loads wallets, batches their writes.
using store_actor = caf::typed_actor<caf::reacts_to<load_request>, caf::reacts_to<append_request>,
                                     caf::reacts_to<flush_atom>, caf::reacts_to<scan_atom>,
                                     caf::reacts_to<key_lookup_request>>;

// Per-shard router: finds or spawns the wallet actor for a command; passivates idle wallets.
using router_actor = caf::typed_actor<caf::reacts_to<submission>, caf::reacts_to<wallet_idle>,
                                      caf::reacts_to<wallet_dormant>>;

// A transfer whose debit committed: the saga delivers its credit, or its reversal.
struct saga_start {
  transfer_record transfer;
};

// The outcome of one leg, reported back to the saga actor by the leg's completion.
struct saga_leg_done {
  std::string saga_id;
  bool reversal = false;
  submit_outcome outcome;
};

// Per-shard saga driver: delivers transfer legs for transfers debited on its shard, with retries.
using saga_retry_atom = caf::atom_constant<caf::atom("sretry")>;
using saga_actor = caf::typed_actor<caf::reacts_to<saga_start>, caf::reacts_to<saga_leg_done>,
                                    caf::reacts_to<saga_retry_atom, std::string>>;

}  // namespace wallet::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::submission)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::load_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::commit_ack)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::commit_nack)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::screened)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::load_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::key_lookup_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::key_looked_up)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::append_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::wallet_idle)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::wallet_dormant)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::saga_start)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(wallet::actors::saga_leg_done)
