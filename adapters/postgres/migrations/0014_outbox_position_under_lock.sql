-- 0014_outbox_position_under_lock: wallet_commit (0013) draws its batch's outbox position last,
-- under a transaction advisory lock per shard, so that a shard may have two commits in flight on
-- two connections and its positions still follow its commit order (migrations/0002_outbox.sql,
-- docs/adr/0016-two-commits-in-flight-per-shard.md). The parts and their checks are those of 0013;
-- only the events' statement changes: the events first, the outbox row at the end. Lock key: the
-- class 1329748034 ('OBXB' in ASCII) and the shard. Never edit once released.

CREATE OR REPLACE FUNCTION wallet_commit(
  p_shard integer,
  -- never-opened wallets (rejections only): none may exist
  a_ids text[],
  -- new wallets
  c_ids text[], c_owners text[], c_currencies text[], c_balances bigint[], c_helds bigint[],
  c_statuses smallint[], c_versions bigint[], c_overdrafts bigint[], c_created timestamptz[],
  c_updated timestamptz[], c_kyc smallint[], c_days integer[], c_outgoing bigint[],
  -- stored wallets, fenced on their expected version
  u_ids text[], u_expected bigint[], u_balances bigint[], u_helds bigint[], u_statuses smallint[],
  u_versions bigint[], u_updated timestamptz[], u_kyc smallint[], u_days integer[],
  u_outgoing bigint[],
  -- events (and the batch's outbox row)
  e_wallets text[], e_seqs bigint[], e_at timestamptz[], e_types text[], e_deltas bigint[],
  e_held_deltas bigint[], e_data jsonb[], e_keys text[], e_commands text[], e_traces text[],
  -- holds closed, holds opened
  hc_wallets text[], hc_ids text[],
  ho_wallets text[], ho_ids text[], ho_amounts bigint[], ho_expires timestamptz[],
  -- idempotency records
  r_wallets text[], r_keys text[], r_fingerprints bigint[], r_rejections smallint[],
  r_seqs bigint[], r_balances bigint[], r_helds bigint[], r_recorded timestamptz[],
  -- debits (new pending transfers)
  d_ids text[], d_sources text[], d_destinations text[], d_currencies text[], d_amounts bigint[],
  d_at timestamptz[],
  -- audit records, in batch order
  au_principals text[], au_actions text[], au_targets text[], au_reasons text[],
  au_traces text[], au_details jsonb[],
  -- AML reviews opened, closed
  ro_ids text[], ro_wallets text[], ro_holds text[], ro_keys text[], ro_amounts bigint[],
  ro_currencies text[], ro_reasons text[], ro_opened timestamptz[], ro_expires timestamptz[],
  ro_commands text[], ro_transfers text[], ro_destinations text[],
  rc_wallets text[], rc_holds text[], rc_statuses text[], rc_at timestamptz[],
  rc_principals text[], rc_reasons text[],
  -- credits complete pending transfers, reversals reverse them
  cr_ids text[], cr_destinations text[], cr_sources text[], cr_currencies text[],
  cr_amounts bigint[], cr_at timestamptz[],
  rv_ids text[], rv_sources text[], rv_amounts bigint[], rv_at timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  written bigint;  -- rows written by the last statement
  done text[];     -- the keys a statement touched
  opened text;     -- a wallet that should not exist
BEGIN
  IF cardinality(a_ids) > 0 THEN
    SELECT w.id INTO opened FROM wallets AS w WHERE w.id = ANY (a_ids) LIMIT 1;
    IF opened IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'WLF01',
        MESSAGE = 'wallets expected not to exist were opened by another writer: ' || opened;
    END IF;
  END IF;

  IF cardinality(c_ids) > 0 THEN
    WITH touched AS (
      INSERT INTO wallets (id, shard, owner, currency, balance, held, status, version,
                           overdraft_limit, created_at, updated_at, kyc_level, outgoing_day,
                           outgoing_today)
      SELECT u.id, p_shard, u.owner, u.currency, u.balance, u.held, u.status, u.version,
             u.overdraft_limit, u.created_at, u.updated_at, u.kyc_level,
             DATE '1970-01-01' + u.outgoing_day, u.outgoing_today
      FROM unnest(c_ids, c_owners, c_currencies, c_balances, c_helds, c_statuses, c_versions,
                  c_overdrafts, c_created, c_updated, c_kyc, c_days, c_outgoing)
        AS u(id, owner, currency, balance, held, status, version, overdraft_limit, created_at,
             updated_at, kyc_level, outgoing_day, outgoing_today)
      ON CONFLICT (id) DO NOTHING RETURNING id)
    SELECT array_agg(touched.id) INTO done FROM touched;
    IF coalesce(cardinality(done), 0) <> cardinality(c_ids) THEN
      RAISE EXCEPTION USING ERRCODE = 'WLF01',
        MESSAGE = 'new wallets already exist (another writer): ' || wallet_missing(c_ids, done);
    END IF;
  END IF;

  -- The fence: a row whose version is not the expected one is not updated (nor returned).
  IF cardinality(u_ids) > 0 THEN
    WITH touched AS (
      UPDATE wallets AS w SET balance = u.balance, held = u.held, status = u.status,
        version = u.version, updated_at = COALESCE(u.updated_at, w.updated_at),
        kyc_level = u.kyc_level, outgoing_day = DATE '1970-01-01' + u.outgoing_day,
        outgoing_today = u.outgoing_today
      FROM unnest(u_ids, u_expected, u_balances, u_helds, u_statuses, u_versions, u_updated,
                  u_kyc, u_days, u_outgoing)
        AS u(id, expected, balance, held, status, version, updated_at, kyc_level, outgoing_day,
             outgoing_today)
      WHERE w.id = u.id AND w.version = u.expected RETURNING w.id)
    SELECT array_agg(touched.id) INTO done FROM touched;
    IF coalesce(cardinality(done), 0) <> cardinality(u_ids) THEN
      RAISE EXCEPTION USING ERRCODE = 'WLF01',
        MESSAGE = 'wallets not at the expected version (another writer): '
          || wallet_missing(u_ids, done);
    END IF;
  END IF;

  -- The events; their outbox row comes last, under the shard's lock (see the end).
  IF cardinality(e_wallets) > 0 THEN
    INSERT INTO wallet_events (wallet_id, seq, at, shard, type, delta, held_delta, data,
                               idempotency_key, command_id, trace_parent)
    SELECT u.wallet_id, u.seq, u.at, p_shard, u.type, u.delta, u.held_delta, u.data,
           u.idempotency_key, u.command_id, u.trace_parent
    FROM unnest(e_wallets, e_seqs, e_at, e_types, e_deltas, e_held_deltas, e_data, e_keys,
                e_commands, e_traces)
      AS u(wallet_id, seq, at, type, delta, held_delta, data, idempotency_key, command_id,
           trace_parent);
  END IF;

  IF cardinality(hc_wallets) > 0 THEN
    WITH touched AS (
      DELETE FROM wallet_holds AS h USING unnest(hc_wallets, hc_ids) AS u(wallet_id, hold_id)
      WHERE h.wallet_id = u.wallet_id AND h.hold_id = u.hold_id
      RETURNING h.wallet_id || '/' || h.hold_id AS k)
    SELECT array_agg(touched.k) INTO done FROM touched;
    IF coalesce(cardinality(done), 0) <> cardinality(hc_wallets) THEN
      RAISE EXCEPTION USING ERRCODE = 'WLR01',
        MESSAGE = 'closed holds with no stored row: '
          || wallet_missing(wallet_pair_keys(hc_wallets, hc_ids), done);
    END IF;
  END IF;

  IF cardinality(ho_wallets) > 0 THEN
    INSERT INTO wallet_holds (wallet_id, hold_id, amount, expires_at, shard)
    SELECT u.wallet_id, u.hold_id, u.amount, u.expires_at, p_shard
    FROM unnest(ho_wallets, ho_ids, ho_amounts, ho_expires)
      AS u(wallet_id, hold_id, amount, expires_at);
  END IF;

  -- A key found again is one older than the wallet's window (not yet purged): the new answer wins
  -- (migration 0009).
  IF cardinality(r_wallets) > 0 THEN
    PERFORM wallet_insert_records(p_shard, r_wallets, r_keys, r_fingerprints, r_rejections,
                                  r_seqs, r_balances, r_helds, r_recorded);
  END IF;

  -- Debits whose transfer id their source used already: none inserted, the batch refused.
  IF cardinality(d_ids) > 0 THEN
    SELECT array_agg(used) INTO done
    FROM wallet_insert_debits(p_shard, d_ids, d_sources, d_destinations, d_currencies,
                              d_amounts, d_at) AS used;
    IF done IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'WLR01',
        MESSAGE = 'transfer ids already used: ' || wallet_key_list(done);
    END IF;
  END IF;

  -- Audit records of administrative commands, committed with their effect (migration 0007); `at`
  -- takes its default, now().
  IF cardinality(au_principals) > 0 THEN
    INSERT INTO audit_log (principal, action, target, reason, trace_id, details)
    SELECT u.principal, u.action, u.target, u.reason, u.trace_id, u.details
    FROM unnest(au_principals, au_actions, au_targets, au_reasons, au_traces, au_details)
      WITH ORDINALITY AS u(principal, action, target, reason, trace_id, details, n)
    ORDER BY u.n;
  END IF;

  -- A review id already used (two commands whose 64-bit digests collide) refuses the write
  -- rather than mixing two reviews.
  IF cardinality(ro_ids) > 0 THEN
    WITH touched AS (
      INSERT INTO aml_reviews (review_id, wallet_id, hold_id, command, idempotency_key, amount,
                               currency, reasons, opened_at, expires_at, transfer_id, destination)
      SELECT u.review_id, u.wallet_id, u.hold_id, u.command, u.key, u.amount, u.currency,
             u.reasons, u.opened_at, u.expires_at, u.transfer_id, u.destination
      FROM unnest(ro_ids, ro_wallets, ro_holds, ro_keys, ro_amounts, ro_currencies, ro_reasons,
                  ro_opened, ro_expires, ro_commands, ro_transfers, ro_destinations)
        AS u(review_id, wallet_id, hold_id, key, amount, currency, reasons, opened_at,
             expires_at, command, transfer_id, destination)
      ON CONFLICT (review_id) DO NOTHING RETURNING review_id)
    SELECT array_agg(touched.review_id) INTO done FROM touched;
    IF coalesce(cardinality(done), 0) <> cardinality(ro_ids) THEN
      RAISE EXCEPTION USING ERRCODE = 'WLR01',
        MESSAGE = 'AML review ids already used: ' || wallet_missing(ro_ids, done);
    END IF;
  END IF;

  -- A review hold closed without a pending review row (none would be written only by a bug) must
  -- not block the wallet's money: the hold's events are the truth, the row a view of them.
  IF cardinality(rc_wallets) > 0 THEN
    UPDATE aml_reviews AS r SET status = u.status, decided_at = u.at, decided_by = u.principal,
      decision_reason = u.reason
    FROM unnest(rc_wallets, rc_holds, rc_statuses, rc_at, rc_principals, rc_reasons)
      AS u(wallet_id, hold_id, status, at, principal, reason)
    WHERE r.wallet_id = u.wallet_id AND r.hold_id = u.hold_id AND r.status = 'pending';
  END IF;

  -- Only a pending transfer with the same parties, currency and amount completes: anything else
  -- would create money.
  IF cardinality(cr_ids) > 0 THEN
    WITH touched AS (
      UPDATE transfers AS t SET status = 'completed', updated_at = u.at
      FROM unnest(cr_ids, cr_destinations, cr_sources, cr_currencies, cr_amounts, cr_at)
        AS u(id, destination, source, currency, amount, at)
      WHERE t.source = u.source AND t.id = u.id AND t.status NOT IN ('completed', 'reversed')
        AND t.destination = u.destination AND t.currency = u.currency AND t.amount = u.amount
      RETURNING t.source || '/' || t.id AS k)
    SELECT array_agg(touched.k) INTO done FROM touched;
    IF coalesce(cardinality(done), 0) <> cardinality(cr_ids) THEN
      RAISE EXCEPTION USING ERRCODE = 'WLR01',
        MESSAGE = 'credits matching no pending transfer (parties, currency, amount): '
          || wallet_missing(wallet_pair_keys(cr_sources, cr_ids), done);
    END IF;
  END IF;

  IF cardinality(rv_ids) > 0 THEN
    WITH touched AS (
      UPDATE transfers AS t SET status = 'reversed', updated_at = u.at
      FROM unnest(rv_ids, rv_sources, rv_amounts, rv_at) AS u(id, source, amount, at)
      WHERE t.source = u.source AND t.id = u.id AND t.status NOT IN ('completed', 'reversed')
        AND t.amount = u.amount
      RETURNING t.source || '/' || t.id AS k)
    SELECT array_agg(touched.k) INTO done FROM touched;
    IF coalesce(cardinality(done), 0) <> cardinality(rv_ids) THEN
      RAISE EXCEPTION USING ERRCODE = 'WLR01',
        MESSAGE = 'reversals matching no pending transfer (source, amount): '
          || wallet_missing(wallet_pair_keys(rv_sources, rv_ids), done);
    END IF;
  END IF;

  -- The batch's outbox row listing its events in batch order (docs/database.md, "Outbox"),
  -- last, under the shard's outbox lock: a transaction lock, held until this transaction has
  -- committed and become visible. A second commit of the shard in flight on another connection
  -- waits here, after its own work, so the shard's positions are drawn one commit after the
  -- other (docs/adr/0016-two-commits-in-flight-per-shard.md).
  IF cardinality(e_wallets) > 0 THEN
    PERFORM pg_advisory_xact_lock(1329748034, p_shard);
    INSERT INTO event_outbox (shard, wallets, seqs) VALUES (p_shard, e_wallets, e_seqs);
  END IF;
END;
$$;
