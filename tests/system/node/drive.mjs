// A third-party client of walletd, written as a user's service would be: the npm `nats` package
// publishes commands through JetStream (Nats-Msg-Id = <wallet_id>/<idempotency_key>, outcomes on
// a Wallet-Reply-To inbox) and reads the event and dead-letter streams with its own consumers.
// Driven by tests/system/nats_client.sh, which stops nats-server and SIGKILLs walletd meanwhile.
// Exits 0 when every check holds, 1 with one line per mismatch otherwise.
//
// Environment: NATS_URL, PG_URL, PREFIX, CMD_STREAM, EVT_STREAM, DLQ_STREAM, PROGRESS_FILE;
// optional WALLETS (200), COMMANDS (10000), SEED (1), EXTRA_EVENT (test of the test: expect one
// event more than there is).
import { execFileSync } from "node:child_process";
import { renameSync, writeFileSync } from "node:fs";
import { connect, createInbox, headers, StringCodec } from "nats";

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const nats_url = env("NATS_URL");
const pg_url = env("PG_URL");
const prefix = env("PREFIX");
const cmd_stream = env("CMD_STREAM");
const evt_stream = env("EVT_STREAM");
const dlq_stream = env("DLQ_STREAM");
const progress_file = env("PROGRESS_FILE");
const wallets_count = Number(env("WALLETS", "200"));
const commands_count = Number(env("COMMANDS", "10000"));
const extra_event = env("EXTRA_EVENT", "0") === "1";
const in_flight_max = 256;
const publish_timeout_ms = 3000;
const run_deadline = Date.now() + 240_000;

const sc = StringCodec();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(new Date().toISOString(), ...a);
const failures = [];
const fail = (msg) => {
  if (failures.length < 50) console.log("MISMATCH:", msg);
  failures.push(msg);
};

// Deterministic choices (mulberry32), so a failure can be replayed with the same SEED.
let seed = Number(env("SEED", "1")) >>> 0;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (n) => Math.floor(rand() * n);
const cents_text = (c) => {
  const s = `${Math.floor(c / 100)}.${String(c % 100).padStart(2, "0")}`;
  return c % 100 === 0 && rand() < 0.5 ? String(c / 100) : s; // "5" and "5.00" are both fine
};
const psql = (sql) =>
  execFileSync("psql", ["-tA", "-F", "\t", pg_url, "-c", sql], { encoding: "utf8" })
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => l.split("\t"));

const wallet_ids = Array.from({ length: wallets_count }, (_, i) => `w-${String(i).padStart(4, "0")}`);

// ---- The messages: opens, then commands with duplicates and malformed ones. ----
// A message: {subject, msg_id, payload (string), key ("<wallet>/<idem key>") or null,
//             command (for valid ones), dead_reason (for malformed ones)}.
const valid = new Map(); // key -> command {wallet, type, cents, destination}
const malformed = new Map(); // msg_id -> expected Wallet-Dead-Reason
const command_message = (cmd, msg_id) => ({
  subject: `${prefix}.cmd.${cmd.wallet}`,
  msg_id: msg_id ?? `${cmd.wallet}/${cmd.idem}`,
  payload: cmd.payload,
  key: `${cmd.wallet}/${cmd.idem}`,
});
const make_command = (wallet, idem, type, cents, destination) => {
  const body = { wallet_id: wallet, idempotency_key: idem, type };
  if (type === "open_wallet") Object.assign(body, { owner: `owner-${wallet}`, currency: "EUR" });
  else body.amount = cents_text(cents);
  if (type === "transfer") Object.assign(body, { transfer_id: `t-${idem}`, destination });
  if (type !== "open_wallet") body.currency = "EUR";
  const cmd = { wallet, idem, type, cents, destination, payload: JSON.stringify(body) };
  valid.set(`${wallet}/${idem}`, cmd);
  return cmd;
};

const opens = wallet_ids.map((w) => command_message(make_command(w, "open", "open_wallet", 0)));
const messages = [];
const originals = [];
const kinds = { original: 0, exact_duplicate: 0, new_msg_id: 0, malformed: 0 };
for (let i = 0; i < commands_count; i++) {
  const r = rand();
  const recent = originals.slice(-500); // duplicates stay well inside the duplicate window
  if (r < 0.05 && recent.length > 0) {
    messages.push(command_message(recent[pick(recent.length)]));
    kinds.exact_duplicate++;
  } else if (r < 0.1 && recent.length > 0) {
    const cmd = recent[pick(recent.length)];
    messages.push(command_message(cmd, `${cmd.wallet}/${cmd.idem}/${i}`));
    kinds.new_msg_id++;
  } else if (r < 0.12) {
    const w = wallet_ids[pick(wallets_count)];
    const idem = `bad-${i}`;
    const msg_id = `${w}/${idem}`;
    let payload;
    const variant = i % 3;
    if (variant === 0) {
      payload = `{"wallet_id": "${w}", "idempotency_key": "${idem}", "type": "deposit", "amount": "1.00"`;
      malformed.set(msg_id, "malformed");
    } else if (variant === 1) {
      payload = JSON.stringify({ wallet_id: w, idempotency_key: idem, type: "deposit",
        amount: "1.00", currency: "EUR", memo: "lunch" });
      malformed.set(msg_id, "invalid");
    } else {
      payload = JSON.stringify({ wallet_id: w, idempotency_key: idem, type: "withdraw",
        amount: "1.234", currency: "EUR" });
      malformed.set(msg_id, "invalid");
    }
    messages.push({ subject: `${prefix}.cmd.${w}`, msg_id, payload, key: null });
    kinds.malformed++;
  } else {
    const w = wallet_ids[pick(wallets_count)];
    const t = rand();
    let cmd;
    if (t < 0.4) cmd = make_command(w, `k${i}`, "deposit", 1 + pick(20000));
    else if (t < 0.7) cmd = make_command(w, `k${i}`, "withdraw", 1 + pick(15000));
    else {
      let d = wallet_ids[pick(wallets_count)];
      if (d === w) d = wallet_ids[(wallet_ids.indexOf(w) + 1) % wallets_count];
      cmd = make_command(w, `k${i}`, "transfer", 1 + pick(15000), d);
    }
    originals.push(cmd);
    messages.push(command_message(cmd));
    kinds.original++;
  }
}

// ---- Connection, outcomes. ----
const nc = await connect({
  servers: nats_url,
  name: "nats-client-test",
  maxReconnectAttempts: -1,
  reconnectTimeWait: 250,
  waitOnFirstConnect: true,
});
(async () => {
  for await (const s of nc.status()) if (s.type !== "pingTimer") log("nats status:", s.type);
})();
const js = nc.jetstream();
const inbox = createInbox();
const outcomes = new Map(); // key -> {status, code, version, fresh (replayed:false count), replies}
const refusals = [];
nc.subscribe(inbox, {
  callback: (err, m) => {
    if (err) return;
    let o;
    try {
      o = JSON.parse(sc.decode(m.data));
    } catch {
      fail(`an outcome that is not JSON: ${sc.decode(m.data)}`);
      return;
    }
    if (o.status === "refused") {
      refusals.push(o);
      return;
    }
    record_outcome(o, "reply");
  },
});
const record_outcome = (o, via) => {
  const key = `${o.wallet_id}/${o.idempotency_key}`;
  const code = o.status === "rejected" ? o.rejection?.code : undefined;
  const prev = outcomes.get(key);
  if (prev === undefined) {
    outcomes.set(key, { status: o.status, code, version: o.version, fresh: o.replayed ? 0 : 1,
      replies: 1, via });
    return;
  }
  prev.replies++;
  if (!o.replayed) prev.fresh++;
  if (prev.status !== o.status || prev.version !== o.version)
    fail(`${key}: outcomes differ: ${prev.status} v${prev.version} then ${o.status} v${o.version}`);
};
await nc.flush();
const hdrs = headers();
hdrs.set("Wallet-Reply-To", inbox);

// ---- Publishing with retries (same Nats-Msg-Id: that is what makes a retry safe). ----
let acked = 0;
let retries = 0;
let stored_duplicates = 0;
const publish = async (m) => {
  for (;;) {
    try {
      const ack = await js.publish(m.subject, sc.encode(m.payload),
        { msgID: m.msg_id, headers: hdrs, timeout: publish_timeout_ms });
      if (ack.duplicate) stored_duplicates++;
      return;
    } catch (e) {
      retries++;
      if (Date.now() > run_deadline) throw new Error(`publish of ${m.msg_id} still failing: ${e}`);
      await sleep(200);
    }
  }
};
// Atomically: the script reads it at any time.
const write_progress = () => {
  writeFileSync(`${progress_file}.tmp`, `${acked}\n`);
  renameSync(`${progress_file}.tmp`, progress_file);
};
const publish_all = async (list) => {
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const m = list[next++];
      await publish(m);
      acked++;
      if (acked % 100 === 0) write_progress();
    }
  };
  await Promise.all(Array.from({ length: Math.min(in_flight_max, list.length) }, worker));
  write_progress();
};
// Waits until every key has an outcome, or none came for stall_ms (a lost reply), or ms passed.
const wait_outcomes = async (keys, ms, stall_ms) => {
  const until = Date.now() + ms;
  let count = outcomes.size;
  let last_change = Date.now();
  while (Date.now() < until && Date.now() - last_change < stall_ms &&
         keys.some((k) => !outcomes.has(k))) {
    await sleep(100);
    if (outcomes.size !== count) [count, last_change] = [outcomes.size, Date.now()];
  }
  return keys.filter((k) => !outcomes.has(k));
};
// A reply is core NATS: one sent while a server was down is gone. Ask the outcome query; not_found
// means not decided yet (a redelivery is due), so ask again for up to 30 s.
const query_missing = async (keys) => {
  const until = Date.now() + 30_000;
  let left = keys;
  while (left.length > 0) {
    const next = [];
    for (const key of left) {
      if (outcomes.has(key)) continue;
      const [w, idem] = key.split("/");
      try {
        const r = await nc.request(`${prefix}.query.outcome.${w}`, sc.encode(idem), { timeout: 5000 });
        const o = JSON.parse(sc.decode(r.data));
        if (o.status !== "refused") record_outcome(o, "query");
        else if (o.error?.code === "not_found") next.push(key);
        else fail(`${key}: the outcome query says ${JSON.stringify(o.error)}`);
      } catch (e) {
        next.push(key);
      }
    }
    left = next;
    if (left.length > 0 && Date.now() > until) {
      for (const key of left) fail(`${key}: no outcome by reply, and the outcome query has none`);
      return;
    }
    if (left.length > 0) await sleep(1000);
  }
};

const started = Date.now();
log(`opening ${wallets_count} wallets`);
await publish_all(opens);
let missing = await wait_outcomes(opens.map((m) => m.key), 60_000, 15_000);
await query_missing(missing);
for (const m of opens)
  if (outcomes.get(m.key)?.status !== "accepted") fail(`${m.key}: open_wallet not accepted`);
log(`sending ${messages.length} commands:`, JSON.stringify(kinds));
await publish_all(messages);
log(`all published in ${(Date.now() - started) / 1000} s; ${retries} publish retries, ` +
  `${stored_duplicates} acks said duplicate`);
const valid_keys = [...valid.keys()];
missing = await wait_outcomes(valid_keys, 120_000, 15_000);
log(`${valid_keys.length - missing.length} of ${valid_keys.length} outcomes by reply; ` +
  `asking the outcome query for ${missing.length}`);
await query_missing(missing);

// ---- Outcomes: each key decided once, no valid command refused. ----
for (const o of refusals)
  if (!malformed.has(`${o.wallet_id}/${o.idempotency_key}`) && o.error?.code !== "malformed")
    fail(`a refusal of a valid command: ${JSON.stringify(o)}`);
const expected = new Map(wallet_ids.map((w) => [w, 0]));
let accepted = 0;
let rejected = 0;
let accepted_transfers = 0;
let total = 0;
for (const [key, cmd] of valid) {
  const o = outcomes.get(key);
  if (o === undefined) {
    fail(`${key}: no outcome`);
    continue;
  }
  if (o.fresh > 1) fail(`${key}: ${o.fresh} outcomes with replayed=false: applied twice`);
  if (o.status === "rejected") {
    rejected++;
    if (cmd.type === "deposit" || cmd.type === "open_wallet" || o.code !== "insufficient_funds")
      fail(`${key}: ${cmd.type} rejected as ${o.code}`);
    continue;
  }
  if (o.status !== "accepted") {
    fail(`${key}: status ${o.status}`);
    continue;
  }
  accepted++;
  if (cmd.type === "deposit") {
    expected.set(cmd.wallet, expected.get(cmd.wallet) + cmd.cents);
    total += cmd.cents;
  } else if (cmd.type === "withdraw") {
    expected.set(cmd.wallet, expected.get(cmd.wallet) - cmd.cents);
    total -= cmd.cents;
  } else if (cmd.type === "transfer") {
    accepted_transfers++;
    expected.set(cmd.wallet, expected.get(cmd.wallet) - cmd.cents);
    expected.set(cmd.destination, expected.get(cmd.destination) + cmd.cents);
  }
}
const replay_only = [...valid.keys()].filter((k) => outcomes.get(k)?.fresh === 0).length;
log(`${accepted} accepted, ${rejected} rejected (insufficient funds); ${replay_only} decided ` +
  `without a first reply reaching the client (answered as replays or by the query)`);

// ---- The database: each key applied once, balances as the client computed them. ----
const wait_db = async (sql, want, what) => {
  const until = Date.now() + 60_000;
  let got;
  while ((got = psql(sql)[0]?.[0]) !== want && Date.now() < until) await sleep(250);
  if (got !== want) fail(`${what}: ${got}, expected ${want}`);
};
await wait_db("SELECT count(*) FROM transfers WHERE status <> 'completed'", "0",
  "transfers not completed");
await wait_db("SELECT count(*) FROM transfers", String(accepted_transfers), "transfers");
const db_wallets = new Map(psql("SELECT id, balance, version FROM wallets").map(
  ([id, b, v]) => [id, { balance: Number(b), version: Number(v) }]));
if (db_wallets.size !== wallets_count) fail(`${db_wallets.size} wallets in the database`);
for (const [w, want] of expected) {
  const got = db_wallets.get(w)?.balance;
  if (got !== want) fail(`${w}: balance ${got} in the database, the client expects ${want}`);
}
const db_total = [...db_wallets.values()].reduce((s, x) => s + x.balance, 0);
if (db_total !== total) fail(`money: the wallets hold ${db_total}, deposits - withdrawals = ${total}`);
const event_keys = new Map();
for (const [w, k, n, seq] of psql("SELECT wallet_id, idempotency_key, count(*), min(seq) " +
    "FROM wallet_events WHERE idempotency_key NOT LIKE 'sys:%' GROUP BY 1, 2")) {
  if (n !== "1") fail(`${w}/${k}: ${n} events in the database`);
  event_keys.set(`${w}/${k}`, Number(seq));
}
const records = new Map(psql("SELECT wallet_id || '/' || key, rejection IS NULL, seq " +
  "FROM idempotency_records WHERE key NOT LIKE 'sys:%'").map(([k, a, s]) => [k, { a, s: Number(s) }]));
for (const [key] of valid) {
  const o = outcomes.get(key);
  if (o === undefined) continue;
  const seq = event_keys.get(key);
  const rec = records.get(key);
  if (rec === undefined) fail(`${key}: no idempotency record`);
  if (o.status === "accepted") {
    if (seq !== o.version) fail(`${key}: accepted as seq ${o.version}, its event has seq ${seq}`);
    if (rec !== undefined && rec.a !== "t") fail(`${key}: accepted, recorded as a rejection`);
  } else {
    if (seq !== undefined) fail(`${key}: rejected, yet it has event seq ${seq}`);
    if (rec !== undefined && rec.a !== "f") fail(`${key}: rejected, recorded as accepted`);
  }
}
for (const key of event_keys.keys()) if (!valid.has(key)) fail(`${key}: an event nobody sent`);
for (const key of records.keys()) if (!valid.has(key)) fail(`${key}: a record nobody sent`);
const credits = psql("SELECT count(*) FROM wallet_events WHERE type = 'transfer_credited'")[0][0];
if (Number(credits) !== accepted_transfers)
  fail(`${credits} transfer_credited events for ${accepted_transfers} accepted transfers`);

// ---- The event stream: per wallet, seqs 1..version once, in order; the fold is the balance. ----
const jsm = await nc.jetstreamManager();
const versions_total = [...db_wallets.values()].reduce((s, x) => s + x.version, 0) +
  (extra_event ? 1 : 0);
const until_events = Date.now() + 60_000;
let evt_info = await jsm.streams.info(evt_stream);
while (evt_info.state.messages < versions_total && Date.now() < until_events) {
  await sleep(250);
  evt_info = await jsm.streams.info(evt_stream);
}
await sleep(1000); // a late duplicate would show now
evt_info = await jsm.streams.info(evt_stream);
if (evt_info.state.messages !== versions_total)
  fail(`the event stream holds ${evt_info.state.messages} events, the wallets' versions sum ` +
    `to ${versions_total}`);
const read_stream = async (name) => {
  const info = await jsm.streams.info(name);
  const out = [];
  if (info.state.messages === 0) return out;
  const consumer = await js.consumers.get(name);
  const iter = await consumer.consume();
  for await (const m of iter) {
    out.push(m);
    if (m.seq >= info.state.last_seq) break;
  }
  return out;
};
// The event each accepted command appended, by "<wallet>:<seq>".
const event_of = new Map();
const event_types = { open_wallet: "wallet_opened", deposit: "deposited", withdraw: "withdrawn",
  transfer: "transfer_debited" };
for (const [key, cmd] of valid) {
  const o = outcomes.get(key);
  if (o?.status === "accepted") event_of.set(`${cmd.wallet}:${o.version}`, cmd);
}
const seen = new Map(wallet_ids.map((w) => [w, { last: 0, fold: 0 }]));
for (const m of await read_stream(evt_stream)) {
  const e = m.json();
  const s = seen.get(e.wallet_id);
  if (s === undefined) {
    fail(`an event of an unknown wallet: ${sc.decode(m.data)}`);
    continue;
  }
  if (m.subject !== `${prefix}.evt.${e.wallet_id}`) fail(`event on ${m.subject}: ${e.wallet_id}`);
  if (m.headers?.get("Nats-Msg-Id") !== `${e.wallet_id}:${e.seq}`)
    fail(`${e.wallet_id}:${e.seq}: Nats-Msg-Id ${m.headers?.get("Nats-Msg-Id")}`);
  if (e.seq !== s.last + 1) fail(`${e.wallet_id}: event seq ${e.seq} after ${s.last}`);
  s.last = Math.max(s.last, e.seq);
  const cmd = event_of.get(`${e.wallet_id}:${e.seq}`);
  if (cmd !== undefined && (e.type !== event_types[cmd.type] ||
      (cmd.type !== "open_wallet" && Math.round(Number(e.amount) * 100) !== cmd.cents)))
    fail(`${e.wallet_id}:${e.seq}: event ${sc.decode(m.data)} for command ${cmd.payload}`);
  if (cmd === undefined && e.type !== "transfer_credited")
    fail(`${e.wallet_id}:${e.seq}: an event no accepted command explains: ${sc.decode(m.data)}`);
  s.fold += Math.round(Number(e.balance_delta) * 100);
}
for (const [w, s] of seen) {
  const db = db_wallets.get(w);
  const want = (db?.version ?? 0) + (extra_event && w === wallet_ids[0] ? 1 : 0);
  if (s.last !== want) fail(`${w}: the event stream ends at seq ${s.last}, wallets.version is ${want}`);
  if (s.fold !== expected.get(w)) fail(`${w}: the events sum to ${s.fold}, expected ${expected.get(w)}`);
}

// ---- The dead-letter stream: every malformed message once, with its reason; nothing else. ----
const dead = new Map();
for (const m of await read_stream(dlq_stream)) {
  const id = m.headers?.get("Nats-Msg-Id");
  const reason = m.headers?.get("Wallet-Dead-Reason");
  if (dead.has(id)) fail(`${id}: dead-lettered twice`);
  dead.set(id, reason);
  if (!malformed.has(id)) fail(`${id}: dead-lettered as ${reason} (${m.headers?.get("Wallet-Dead-Detail")})`);
}
for (const [id, reason] of malformed) {
  if (!dead.has(id)) fail(`${id}: malformed, not in the dead-letter stream`);
  else if (dead.get(id) !== reason) fail(`${id}: dead reason ${dead.get(id)}, expected ${reason}`);
}

await nc.close();
log(`${valid.size} valid commands (${accepted} accepted, ${rejected} rejected), ${malformed.size} ` +
  `malformed dead-lettered, ${versions_total} events checked, in ${(Date.now() - started) / 1000} s`);
if (failures.length > 0) {
  console.log(`FAIL: ${failures.length} mismatches`);
  process.exit(1);
}
console.log("PASS");
