-- The naive baseline's tables: what a team would write instead of wallet-engine. One SQL
-- transaction per command, rows locked in id order, every command recorded under its client
-- idempotency key. Used by naive_schema.sql (pgbench) and by wallet-loadtest's baseline mode,
-- which embeds this file at build time. Drops and recreates the tables.
DROP TABLE IF EXISTS naive_requests;
DROP TABLE IF EXISTS naive_holds;
DROP TABLE IF EXISTS naive_transfers;
DROP TABLE IF EXISTS naive_wallets;

CREATE TABLE naive_wallets (
  id      bigint PRIMARY KEY,
  balance bigint NOT NULL CHECK (balance >= 0),
  held    bigint NOT NULL DEFAULT 0 CHECK (held >= 0 AND held <= balance)
) WITH (fillfactor = 80);  -- room for HOT updates, as wallet-engine's wallets table has

CREATE TABLE naive_transfers (
  id              bigserial   PRIMARY KEY,
  idempotency_key text        NOT NULL,
  src             bigint      NOT NULL,  -- no foreign keys: the transaction has just locked both
  dst             bigint      NOT NULL,  -- rows, and wallet-engine's transfers table has none either
  amount          bigint      NOT NULL CHECK (amount > 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (src <> dst)
);
-- A repeated request (same key) fails on this index and its transaction rolls back.
CREATE UNIQUE INDEX naive_transfers_idempotency_key ON naive_transfers (idempotency_key);

-- Open holds (wallet-loadtest's hold jobs).
CREATE TABLE naive_holds (
  wallet  bigint NOT NULL,
  hold_id text   NOT NULL,
  amount  bigint NOT NULL CHECK (amount > 0),
  PRIMARY KEY (wallet, hold_id)
);

-- Every command's outcome under its key (keys are per wallet): a repeat reads it back.
CREATE TABLE naive_requests (
  wallet          bigint NOT NULL,
  idempotency_key text   NOT NULL,
  status          text   NOT NULL,
  code            text   NOT NULL,
  PRIMARY KEY (wallet, idempotency_key)
);
