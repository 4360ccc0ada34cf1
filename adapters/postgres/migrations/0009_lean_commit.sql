-- 0009_lean_commit: less index work per committed transfer (docs/database.md, "A commit").
-- Never edit once released.

-- The recovery scan reads only pending transfers. A partial index holds just them: completing or
-- reversing a transfer no longer adds an entry (the old one is left for vacuum), and the index stays
-- as small as the money in flight. source and id complete the scan's ORDER BY.
DROP INDEX transfers_recovery;
CREATE INDEX transfers_pending ON transfers (source_shard, created_at, source, id)
  WHERE status = 'pending';

-- The batch's idempotency records. Nearly always every key is new: a plain INSERT checks the
-- primary key while inserting. Only when a key is still stored (older than the wallet's window but
-- not yet purged) does the block roll back and the upsert run, whose new answer wins. An upsert for
-- every row would probe the key first and confirm each speculative insertion: about a quarter
-- more work per record, measured.
CREATE FUNCTION wallet_insert_records(
  p_shard integer, p_wallets text[], p_keys text[], p_fingerprints bigint[],
  p_rejections smallint[], p_seqs bigint[], p_balances bigint[], p_helds bigint[],
  p_recorded timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    INSERT INTO idempotency_records (wallet_id, key, fingerprint, rejection, seq, balance, held,
                                     recorded_at, shard)
    SELECT u.wallet_id, u.key, u.fingerprint, u.rejection, u.seq, u.balance, u.held,
           u.recorded_at, p_shard
    FROM unnest(p_wallets, p_keys, p_fingerprints, p_rejections, p_seqs, p_balances, p_helds,
                p_recorded)
      AS u(wallet_id, key, fingerprint, rejection, seq, balance, held, recorded_at);
  EXCEPTION WHEN unique_violation THEN
    INSERT INTO idempotency_records (wallet_id, key, fingerprint, rejection, seq, balance, held,
                                     recorded_at, shard)
    SELECT u.wallet_id, u.key, u.fingerprint, u.rejection, u.seq, u.balance, u.held,
           u.recorded_at, p_shard
    FROM unnest(p_wallets, p_keys, p_fingerprints, p_rejections, p_seqs, p_balances, p_helds,
                p_recorded)
      AS u(wallet_id, key, fingerprint, rejection, seq, balance, held, recorded_at)
    ON CONFLICT (wallet_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,
      rejection = EXCLUDED.rejection, seq = EXCLUDED.seq, balance = EXCLUDED.balance,
      held = EXCLUDED.held, recorded_at = EXCLUDED.recorded_at, shard = EXCLUDED.shard;
  END;
END;
$$;

-- The batch's debits as pending transfers. Returns the 'source/id' of each transfer whose id its
-- source already used (none inserted then: the caller fails the commit). A plain INSERT on the
-- usual path, as above; the names of the culprits are worked out only after a conflict.
CREATE FUNCTION wallet_insert_debits(
  p_shard integer, p_ids text[], p_sources text[], p_destinations text[], p_currencies text[],
  p_amounts bigint[], p_at timestamptz[]) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  culprits text[];
BEGIN
  BEGIN
    INSERT INTO transfers (id, source, destination, currency, amount, status, source_shard,
                           created_at, updated_at)
    SELECT u.id, u.source, u.destination, u.currency, u.amount, 'pending', p_shard, u.at, u.at
    FROM unnest(p_ids, p_sources, p_destinations, p_currencies, p_amounts, p_at)
      AS u(id, source, destination, currency, amount, at);
  EXCEPTION WHEN unique_violation THEN
    SELECT array_agg(u.source || '/' || u.id ORDER BY u.n) INTO culprits
    FROM unnest(p_ids, p_sources) WITH ORDINALITY AS u(id, source, n)
    WHERE EXISTS (SELECT 1 FROM transfers AS t WHERE t.source = u.source AND t.id = u.id)
       OR EXISTS (SELECT 1 FROM unnest(p_ids, p_sources) WITH ORDINALITY AS v(id, source, n)
                  WHERE v.source = u.source AND v.id = u.id AND v.n < u.n);
    IF culprits IS NULL THEN
      RAISE;  -- the violation is not a used id: never report success without the rows
    END IF;
    RETURN QUERY SELECT unnest(culprits);
  END;
END;
$$;
