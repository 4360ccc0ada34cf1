-- The naive baseline of issue 3: what a team would write instead of wallet-engine. One SQL
-- transaction per transfer (naive_transfer.pgbench), both wallet rows locked in id order, the
-- transfer recorded under a client idempotency key. Balances are checked by the database.
--
--   psql -v ON_ERROR_STOP=1 -v wallets=100000 -f naive_schema.sql DATABASE
--
-- Drops and recreates the tables (naive_tables.sql), then funds wallets 1..:wallets like
-- runtime_bench does: 10,000.00 EUR each (1,000,000 minor units), and the 10 hot wallets 10,000,000,000.00 EUR, so
-- that no transfer of the run can fail for lack of funds (pgbench cannot branch on a row count).
\ir naive_tables.sql

INSERT INTO naive_wallets (id, balance)
SELECT g, CASE WHEN g <= 10 THEN 1000000000000 ELSE 1000000 END
FROM generate_series(1, :wallets) AS g;

VACUUM ANALYZE naive_wallets;
ANALYZE naive_transfers;
