-- 0008_aml_reviews: AML reviews (docs/adr/0009-aml-review-holds.md). Never edit once released.

-- One row per withdrawal the screening sent to review. Its money is a hold `aml:<review_id>` on
-- the wallet (wallet_holds); the row is written in the transaction that places the hold and
-- updated in the one that captures (approved), releases (rejected) or expires it, so it never
-- disagrees with the wallet's events. Who decided and why is also in audit_log (the decision's
-- record, written in the same transaction).
CREATE TABLE aml_reviews (
  review_id       text        PRIMARY KEY,
  wallet_id       text        NOT NULL,
  hold_id         text        NOT NULL,
  command         text        NOT NULL,
  idempotency_key text        NOT NULL,
  amount          bigint      NOT NULL,
  currency        text        NOT NULL,
  reasons         text        NOT NULL,
  status          text        NOT NULL DEFAULT 'pending',
  opened_at       timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  decided_at      timestamptz,
  decided_by      text,
  decision_reason text,
  CONSTRAINT aml_reviews_id_valid CHECK (review_id ~ '^[0-9a-f]{16}$'),
  CONSTRAINT aml_reviews_hold_valid CHECK (hold_id = 'aml:' || review_id),
  CONSTRAINT aml_reviews_amount_valid CHECK (amount > 0),
  CONSTRAINT aml_reviews_status_valid
    CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  CONSTRAINT aml_reviews_decided CHECK ((status = 'pending') = (decided_at IS NULL)),
  UNIQUE (wallet_id, hold_id)
);
-- The reviewer's queue (by status, oldest first) and a wallet's reviews; both page by (opened_at,
-- review_id).
CREATE INDEX aml_reviews_status ON aml_reviews (status, opened_at, review_id);
CREATE INDEX aml_reviews_wallet ON aml_reviews (wallet_id, opened_at, review_id);
