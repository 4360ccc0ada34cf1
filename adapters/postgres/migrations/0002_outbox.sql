-- 0002_outbox: the transactional outbox (DESIGN.md §6, docs/database.md "Outbox"). Committed events
-- are published to NATS from these rows, in commit order per shard. Never edit once released.

-- One row per committed batch that appended events, written by the same statement that inserts the
-- events (so it commits, or rolls back, with them). Element i lists the event (wallets[i], seqs[i]);
-- the arrays keep the batch's order, so within a wallet the seqs increase.
--
-- Why `position` follows commit order within a shard: each shard has exactly one store actor, which
-- commits one transaction after the other, and a position is drawn from the identity sequence while
-- its transaction runs. A transaction therefore draws its position after the previous commit of its
-- shard finished, and sequence values only grow (CACHE 1, the default: with a per-session cache,
-- two sessions would draw from separate ranges). Positions are not contiguous: shards share the
-- sequence, and a rolled-back transaction burns its value.
--
-- The limit: this holds only while one writer commits per shard. During a shard handover, an old
-- instance that was fenced off but still commits (writes of wallets the new owner has not touched
-- pass the version fence) can commit a lower position after the publisher has moved the cursor past
-- it, and that event would never be published. A handover must stop the old writer (close its
-- connections or wait for its lease to expire) before the new one commits.
CREATE TABLE event_outbox (
  shard        integer     NOT NULL,
  position     bigint      GENERATED ALWAYS AS IDENTITY,
  wallets      text[]      NOT NULL,
  seqs         bigint[]    NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shard, position),
  -- A row lists at least one event, and each wallet id has its seq.
  CONSTRAINT event_outbox_events_listed CHECK (
    cardinality(wallets) >= 1 AND array_ndims(wallets) = 1 AND array_ndims(seqs) = 1
    AND cardinality(wallets) = cardinality(seqs))
);

-- What the publisher of each shard has published: every outbox row with position <= `position`.
-- A shard without a row has published nothing (position 0; identity values start at 1).
CREATE TABLE event_outbox_cursors (
  shard        integer     PRIMARY KEY,
  position     bigint      NOT NULL DEFAULT 0,
  published_at timestamptz,
  CONSTRAINT event_outbox_cursors_position_valid CHECK (position >= 0)
);
