-- The naive baseline of issue 3: what a team would write instead of wallet-engine. One SQL
-- transaction per transfer (naive_transfer.pgbench), both wallet rows locked in id order, the
-- transfer recorded under a client idempotency key. Balances are checked by the database.
--
--   psql -v ON_ERROR_STOP=1 -v wallets=100000 -f naive_schema.sql DATABASE
--
-- Drops and recreates its two tables, then funds wallets 1..:wallets like runtime_bench does:
-- 10,000.00 EUR each (1,000,000 minor units), and the 10 hot wallets 10,000,000,000.00 EUR, so
-- that no transfer of the run can fail for lack of funds (pgbench cannot branch on a row count).
DROP TABLE IF EXISTS naive_transfers;
DROP TABLE IF EXISTS naive_wallets;

CREATE TABLE naive_wallets (
  id      bigint PRIMARY KEY,
  balance bigint NOT NULL CHECK (balance >= 0)
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

INSERT INTO naive_wallets (id, balance)
SELECT g, CASE WHEN g <= 10 THEN 1000000000000 ELSE 1000000 END
FROM generate_series(1, :wallets) AS g;

VACUUM ANALYZE naive_wallets;
ANALYZE naive_transfers;
