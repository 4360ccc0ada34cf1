-- 0007_audit_log: the audit trail of administrative actions and the owners' personal data
-- (docs/adr/0004-compliance-controls.md decisions 4 and 5, docs/adr/0006-audit-trail.md).
-- Never edit once released. 0008 is reserved for AML screening.

-- One row per administrative action, append-only: the database refuses UPDATE, DELETE and
-- TRUNCATE (triggers below), whoever asks — grants alone would not hold against the table's owner.
-- `at` is the database's clock (the start of the writing transaction), never the caller's.
-- Wallet commands (freeze, unfreeze, close_wallet, set_kyc_level) write their row in the same
-- transaction as their event; file reloads and erasures write theirs directly.
CREATE TABLE audit_log (
  id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  principal text        NOT NULL,
  action    text        NOT NULL,
  target    text        NOT NULL,
  reason    text        NOT NULL,
  trace_id  text,
  details   jsonb       NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT audit_log_principal_valid CHECK (octet_length(principal) BETWEEN 1 AND 256),
  CONSTRAINT audit_log_action_valid CHECK (action ~ '^[a-z][a-z0-9_.]{0,63}$'),
  CONSTRAINT audit_log_target_valid CHECK (octet_length(target) BETWEEN 1 AND 256),
  -- engine::reason_length_max bytes, no ASCII control character (actors::is_valid_reason). The
  -- writers check the same first: a refused row fails the whole commit it is part of.
  CONSTRAINT audit_log_reason_valid CHECK (octet_length(reason) BETWEEN 1 AND 256
                                           AND reason !~ '[\x01-\x1f\x7f]'),
  CONSTRAINT audit_log_trace_id_valid CHECK (trace_id IS NULL OR trace_id ~ '^[0-9a-f]{32}$'),
  CONSTRAINT audit_log_details_object CHECK (jsonb_typeof(details) = 'object')
);
-- The auditor's filters: by target (a wallet's history), by principal, by action, by time; each
-- pages in id order.
CREATE INDEX audit_log_target ON audit_log (target, id);
CREATE INDEX audit_log_principal ON audit_log (principal, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING HINT = 'Audit records are never changed or removed (docs/compliance.md).';
END;
$$;

-- `at` is always the database's clock: a writer cannot back-date or post-date a record.
CREATE FUNCTION audit_log_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.at := now();
  RETURN NEW;
END;
$$;

CREATE TRIGGER audit_log_stamp
  BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_stamp();
CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate
  BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Personal data, and the only place it lives: wallets and events name the owner id alone.
-- Erasure deletes the row (the audit row of the erasure names the owner id, never the data).
CREATE TABLE owner_profiles (
  owner_id     text        PRIMARY KEY,
  display_name text        NOT NULL,
  email        text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  -- engine::owner_id_length_max; the API's bounds on the personal fields (api_admin.cpp).
  CONSTRAINT owner_profiles_owner_valid CHECK (owner_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
  CONSTRAINT owner_profiles_name_valid CHECK (octet_length(display_name) BETWEEN 1 AND 200),
  CONSTRAINT owner_profiles_email_valid CHECK (octet_length(email) BETWEEN 3 AND 254)
);
