-- 0012_fence_seqs_hot_wallets: less work per row written (docs/database.md, "Where PostgreSQL's CPU
-- goes"). (wallet_id, seq) stays unique through the version fence of wallet_commit, without the
-- side table and trigger of 0001 (docs/adr/0013-event-seqs-by-fence.md); wallet rows get more room
-- for HOT updates. Never edit once released.

-- Every commit updates its wallets' rows. An update is HOT (no new entry in the three indexes of
-- wallets) only when the row's page has room for the new version: at 80, 8 to 12 % of the updates
-- of a closed-loop load were not HOT, at 60 3 to 5 %. Applies to pages written from now on;
-- VACUUM FULL wallets (or pg_repack) applies it to the stored rows at once.
ALTER TABLE wallets SET (fillfactor = 60);

-- The uniqueness trigger of the parent and of every partition depend on this function: CASCADE
-- drops them all (wallet_events_seq_unique, wallet_events_YYYY_MM_seq_unique).
DROP FUNCTION wallet_record_event_seqs() CASCADE;
-- With its append-only triggers.
DROP TABLE wallet_event_seqs;

-- As in 0001, without the uniqueness trigger on each new partition.
CREATE OR REPLACE FUNCTION wallet_ensure_partitions(from_date date, months_ahead integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  first_month date := date_trunc('month', from_date)::date;
  month_start date;
  month_end   date;
  part_name   text;
  existing    regclass;
  created     integer := 0;
BEGIN
  IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 120 THEN
    RAISE EXCEPTION 'wallet_ensure_partitions: months_ahead must be 0..120, got %', months_ahead;
  END IF;
  -- Serialises concurrent callers (several shards start at once); released at commit.
  PERFORM pg_advisory_xact_lock(8602275976068755572);
  FOR i IN 0 .. months_ahead LOOP
    month_start := (first_month + make_interval(months => i))::date;
    month_end := (first_month + make_interval(months => i + 1))::date;
    part_name := 'wallet_events_' || to_char(month_start, 'YYYY_MM');
    existing := to_regclass(quote_ident(current_schema()) || '.' || quote_ident(part_name));
    IF existing IS NOT NULL THEN
      IF NOT EXISTS (SELECT 1 FROM pg_inherits
                     WHERE inhrelid = existing AND inhparent = 'wallet_events'::regclass) THEN
        RAISE EXCEPTION 'table % exists but is not a partition of wallet_events', part_name
          USING HINT = 'Rename an archived (detached) partition before its month is needed again.';
      END IF;
      CONTINUE;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF wallet_events FOR VALUES FROM (%L) TO (%L)',
                   part_name, month_start::text || ' 00:00:00+00', month_end::text || ' 00:00:00+00');
    -- Statement triggers are not cloned to partitions: a TRUNCATE naming the partition itself
    -- must be refused too.
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_change()',
                   part_name || '_no_truncate', part_name);
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$;
