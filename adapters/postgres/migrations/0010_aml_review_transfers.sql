-- 0010_aml_review_transfers: transfers under AML review (docs/adr/0009-aml-review-holds.md).
-- Never edit once released.

-- A review is of a withdrawal or of a transfer. A transfer's review names the transfer (its id on
-- the source wallet) and its destination: the approval debits the review's hold towards them, and
-- the transfer's status reads them while no saga record exists yet.
ALTER TABLE aml_reviews
  ADD COLUMN transfer_id text,
  ADD COLUMN destination text,
  ADD CONSTRAINT aml_reviews_command_valid CHECK (command IN ('withdraw', 'transfer_debit')),
  ADD CONSTRAINT aml_reviews_transfer_named CHECK (CASE command
    WHEN 'transfer_debit' THEN transfer_id IS NOT NULL AND destination IS NOT NULL
    ELSE transfer_id IS NULL AND destination IS NULL END);

-- GET /v1/wallets/{id}/transfers/{transfer_id} of a transfer still under review (or never
-- approved): the newest review of that transfer id on its source.
CREATE INDEX aml_reviews_transfer ON aml_reviews (wallet_id, transfer_id, opened_at)
  WHERE transfer_id IS NOT NULL;
