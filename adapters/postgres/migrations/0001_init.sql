-- 0001_init: the system of record (DESIGN.md §5, docs/database.md). The migrator runs this file in
-- one transaction and records its SHA-256; never edit it once released, add a new migration instead.

-- Facts about the deployment that must never change silently (the shard count).
CREATE TABLE deployment (
  key   text PRIMARY KEY,
  value text NOT NULL
);

-- The write model: one row per opened wallet, fenced by `version` (the seq of its last event).
-- fillfactor leaves room on each page so that balance updates stay HOT (no index churn).
CREATE TABLE wallets (
  id              text        PRIMARY KEY,
  shard           integer     NOT NULL,
  owner           text        NOT NULL,
  currency        char(3)     NOT NULL,
  balance         bigint      NOT NULL,
  held            bigint      NOT NULL,
  status          smallint    NOT NULL,
  version         bigint      NOT NULL,
  overdraft_limit bigint      NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  CONSTRAINT wallets_shard_valid CHECK (shard >= 0),
  CONSTRAINT wallets_currency_valid CHECK (currency ~ '^[A-Z]{3}$'),
  -- 1 active, 2 frozen, 3 closed (engine::wallet_status; 'none' is never stored).
  CONSTRAINT wallets_status_valid CHECK (status IN (1, 2, 3)),
  CONSTRAINT wallets_version_valid CHECK (version >= 1),
  CONSTRAINT wallets_held_valid CHECK (held >= 0),
  -- engine::overdraft_limit_max and engine::balance_minor_max.
  CONSTRAINT wallets_overdraft_limit_valid
    CHECK (overdraft_limit >= 0 AND overdraft_limit <= 1000000000000000),
  CONSTRAINT wallets_balance_max CHECK (balance <= 2305843009213693951),
  CONSTRAINT wallets_balance_within_overdraft CHECK (balance >= -overdraft_limit),
  CONSTRAINT wallets_held_within_funds CHECK (held <= balance + overdraft_limit)
) WITH (fillfactor = 80);
CREATE INDEX wallets_shard ON wallets (shard);

-- Open holds; the rows of one wallet sum to wallets.held.
CREATE TABLE wallet_holds (
  wallet_id  text        NOT NULL REFERENCES wallets (id),
  hold_id    text        NOT NULL,
  amount     bigint      NOT NULL,
  expires_at timestamptz NOT NULL,
  shard      integer     NOT NULL,
  PRIMARY KEY (wallet_id, hold_id),
  CONSTRAINT wallet_holds_amount_valid CHECK (amount > 0)
);
CREATE INDEX wallet_holds_due ON wallet_holds (shard, expires_at);

-- Refuses any change to an append-only table. Row triggers on a partitioned table are cloned to
-- every partition, so addressing a partition directly is refused too.
CREATE FUNCTION wallet_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING HINT = 'Old events are archived by detaching a whole partition (docs/database.md).';
END;
$$;

-- The event log, partitioned by month of `at` for archival. `delta` is engine::balance_delta,
-- `held_delta` the change to wallets.held; `data` holds every other field of the event.
CREATE TABLE wallet_events (
  wallet_id       text        NOT NULL,
  seq             bigint      NOT NULL,
  at              timestamptz NOT NULL,
  shard           integer     NOT NULL,
  type            text        NOT NULL,
  delta           bigint      NOT NULL,
  held_delta      bigint      NOT NULL,
  data            jsonb       NOT NULL,
  idempotency_key text,
  PRIMARY KEY (wallet_id, seq, at),
  CONSTRAINT wallet_events_seq_valid CHECK (seq >= 1),
  CONSTRAINT wallet_events_type_valid CHECK (type IN (
    'wallet_opened', 'deposited', 'withdrawn', 'transfer_debited', 'transfer_credited',
    'transfer_reversed', 'hold_placed', 'hold_captured', 'hold_released', 'hold_expired',
    'wallet_frozen', 'wallet_unfrozen', 'wallet_closed'))
) PARTITION BY RANGE (at);

-- (wallet_id, seq) is unique across all partitions (docs/adr/0001-event-uniqueness.md). A unique
-- index on wallet_events would have to contain `at`, so the pairs are also kept in this plain
-- table, filled by a statement trigger from every insert, COPY included.
CREATE TABLE wallet_event_seqs (
  wallet_id text   NOT NULL,
  seq       bigint NOT NULL,
  PRIMARY KEY (wallet_id, seq)
);

CREATE FUNCTION wallet_record_event_seqs() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO wallet_event_seqs (wallet_id, seq) SELECT wallet_id, seq FROM inserted_events;
  RETURN NULL;
END;
$$;

CREATE TRIGGER wallet_events_seq_unique
  AFTER INSERT ON wallet_events REFERENCING NEW TABLE AS inserted_events
  FOR EACH STATEMENT EXECUTE FUNCTION wallet_record_event_seqs();
CREATE TRIGGER wallet_events_append_only
  BEFORE UPDATE OR DELETE ON wallet_events
  FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change();
CREATE TRIGGER wallet_events_no_truncate
  BEFORE TRUNCATE ON wallet_events
  FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_change();
CREATE TRIGGER wallet_event_seqs_append_only
  BEFORE UPDATE OR DELETE ON wallet_event_seqs
  FOR EACH ROW EXECUTE FUNCTION wallet_refuse_change();
CREATE TRIGGER wallet_event_seqs_no_truncate
  BEFORE TRUNCATE ON wallet_event_seqs
  FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_change();

-- Creates the monthly partitions of wallet_events for the month of `from_date` and the
-- `months_ahead` months after it (UTC months), skipping those that exist. There is deliberately no
-- DEFAULT partition: an event outside every partition fails loudly instead of landing in a table
-- that would later block attaching that month. Returns how many partitions it created.
CREATE FUNCTION wallet_ensure_partitions(from_date date, months_ahead integer) RETURNS integer
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
    -- Statement triggers are not cloned to partitions: a statement naming the partition itself
    -- must record its seqs and may not truncate it either.
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS inserted_events '
                   'FOR EACH STATEMENT EXECUTE FUNCTION wallet_record_event_seqs()',
                   part_name || '_seq_unique', part_name);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION wallet_refuse_change()',
                   part_name || '_no_truncate', part_name);
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$;

SELECT wallet_ensure_partitions(current_date, 3);

-- The answer to every remembered command, by idempotency key (DESIGN.md §4).
CREATE TABLE idempotency_records (
  wallet_id   text        NOT NULL,
  key         text        NOT NULL,
  fingerprint bigint      NOT NULL,
  rejection   smallint,
  seq         bigint      NOT NULL,
  balance     bigint      NOT NULL,
  held        bigint      NOT NULL,
  recorded_at timestamptz NOT NULL,
  shard       integer     NOT NULL,
  PRIMARY KEY (wallet_id, key),
  -- engine::rejection values start at 1; NULL is an accepted command.
  CONSTRAINT idempotency_records_rejection_valid CHECK (rejection IS NULL OR rejection >= 1),
  CONSTRAINT idempotency_records_seq_valid CHECK (seq >= 0)
);
CREATE INDEX idempotency_records_expiry ON idempotency_records (recorded_at);

-- Transfer sagas: inserted pending with the debit, completed by the credit, reversed by the
-- compensation (DESIGN.md §4). Money in flight is the sum of the pending amounts. Clients choose
-- transfer ids, unique per source wallet: the key is (source, id).
CREATE TABLE transfers (
  source       text        NOT NULL,
  id           text        NOT NULL,
  destination  text        NOT NULL,
  currency     char(3)     NOT NULL,
  amount       bigint      NOT NULL,
  status       text        NOT NULL,
  source_shard integer     NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (source, id),
  CONSTRAINT transfers_status_valid CHECK (status IN ('pending', 'completed', 'reversed')),
  CONSTRAINT transfers_amount_valid CHECK (amount > 0),
  CONSTRAINT transfers_not_to_self CHECK (source <> destination)
);
CREATE INDEX transfers_recovery ON transfers (source_shard, status, created_at);

-- A transfer moves only from pending to completed or reversed, and nothing else about it changes.
CREATE FUNCTION transfers_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'pending' OR NEW.status = 'pending'
     OR (NEW.id, NEW.source, NEW.destination, NEW.currency, NEW.amount, NEW.source_shard,
         NEW.created_at)
        IS DISTINCT FROM
        (OLD.id, OLD.source, OLD.destination, OLD.currency, OLD.amount, OLD.source_shard,
         OLD.created_at) THEN
    RAISE EXCEPTION 'transfer % from %: % -> % refused', OLD.id, OLD.source, OLD.status,
      NEW.status;
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER transfers_transition
  BEFORE UPDATE ON transfers
  FOR EACH ROW EXECUTE FUNCTION transfers_check_transition();
