-- The commit micro-benchmark's procedure (loadtest/pg/commit_micro.sh): `iters` calls of
-- wallet_commit, each its own transaction, of `batch` wallets with one deposit event each: the
-- wallet and event parts of a store batch alone, without a client. Iteration i writes group i % 40
-- of 40 * batch wallets (ids 'wallet-' || md5(n), in id order like pg_store's plan): the first 40
-- open them, the next ones move each from version i / 40 to i / 40 + 1.
CREATE PROCEDURE pg_temp.commit_micro(first integer, iters integer, batch integer)
LANGUAGE plpgsql AS $$
DECLARE
  n int := batch; groups int := 40;
  ids text[]; seqs bigint[]; ats timestamptz[]; types text[]; datas jsonb[]; nulls text[];
  zero bigint[]; zero16 smallint[]; zero32 int[]; one16 smallint[]; onev bigint[];
  cid text[]; cown text[]; ccur text[];
  uid text[]; uexp bigint[]; uver bigint[]; uzero bigint[]; uzero16 smallint[]; uzero32 int[];
  uone16 smallint[]; uats timestamptz[];
  g int; v int;
BEGIN
  FOR i IN first .. first + iters - 1 LOOP
    g := i % groups;
    v := i / groups;
    ids := ARRAY(SELECT 'wallet-' || md5((g * n + k)::text) FROM generate_series(1, n) k ORDER BY 1);
    seqs := array_fill((v + 1)::bigint, ARRAY[n]);
    ats := array_fill(clock_timestamp(), ARRAY[n]);
    types := array_fill('deposited'::text, ARRAY[n]);
    datas := array_fill('{"amount": 5}'::jsonb, ARRAY[n]);
    nulls := array_fill(NULL::text, ARRAY[n]);
    zero := array_fill(0::bigint, ARRAY[n]);
    zero16 := array_fill(0::smallint, ARRAY[n]);
    zero32 := array_fill(0, ARRAY[n]);
    one16 := array_fill(1::smallint, ARRAY[n]);
    IF v = 0 THEN
      cid := ids; cown := array_fill('owner'::text, ARRAY[n]);
      ccur := array_fill('EUR'::text, ARRAY[n]); onev := array_fill(1::bigint, ARRAY[n]);
      uid := '{}'; uexp := '{}'; uver := '{}'; uzero := '{}'; uzero16 := '{}'; uzero32 := '{}';
      uone16 := '{}'; uats := '{}';
    ELSE
      cid := '{}'; cown := '{}'; ccur := '{}'; onev := '{}';
      uid := ids; uexp := array_fill(v::bigint, ARRAY[n]);
      uver := array_fill((v + 1)::bigint, ARRAY[n]);
      uzero := zero; uzero16 := zero16; uzero32 := zero32; uone16 := one16; uats := ats;
    END IF;
    PERFORM wallet_commit(
      p_shard => 0, a_ids => '{}', c_ids => cid, c_owners => cown, c_currencies => ccur,
      c_balances => zero, c_helds => zero, c_statuses => one16, c_versions => onev,
      c_overdrafts => zero, c_created => ats, c_updated => ats, c_kyc => zero16, c_days => zero32,
      c_outgoing => zero, u_ids => uid, u_expected => uexp, u_balances => uzero, u_helds => uzero,
      u_statuses => uone16, u_versions => uver, u_updated => uats, u_kyc => uzero16,
      u_days => uzero32, u_outgoing => uzero, e_wallets => ids, e_seqs => seqs, e_at => ats,
      e_types => types, e_deltas => zero, e_held_deltas => zero, e_data => datas, e_keys => nulls,
      e_commands => nulls, e_traces => nulls, hc_wallets => '{}', hc_ids => '{}',
      ho_wallets => '{}', ho_ids => '{}', ho_amounts => '{}', ho_expires => '{}',
      r_wallets => '{}', r_keys => '{}', r_fingerprints => '{}', r_rejections => '{}',
      r_seqs => '{}', r_balances => '{}', r_helds => '{}', r_recorded => '{}', d_ids => '{}',
      d_sources => '{}', d_destinations => '{}', d_currencies => '{}', d_amounts => '{}',
      d_at => '{}', au_principals => '{}', au_actions => '{}', au_targets => '{}',
      au_reasons => '{}', au_traces => '{}', au_details => '{}', ro_ids => '{}',
      ro_wallets => '{}', ro_holds => '{}', ro_keys => '{}', ro_amounts => '{}',
      ro_currencies => '{}', ro_reasons => '{}', ro_opened => '{}', ro_expires => '{}',
      ro_commands => '{}', ro_transfers => '{}', ro_destinations => '{}', rc_wallets => '{}',
      rc_holds => '{}', rc_statuses => '{}', rc_at => '{}', rc_principals => '{}',
      rc_reasons => '{}', cr_ids => '{}', cr_destinations => '{}', cr_sources => '{}',
      cr_currencies => '{}', cr_amounts => '{}', cr_at => '{}', rv_ids => '{}', rv_sources => '{}',
      rv_amounts => '{}', rv_at => '{}');
    COMMIT;
  END LOOP;
END;
$$;
