-- 0005_kyc_state: KYC levels (docs/adr/0004-compliance-controls.md, decision 1). A wallet row keeps
-- its level and its daily outgoing total beside its balance: like the balance, a snapshot of the
-- fold of its events, written with every commit. Never edit once released.

-- kyc_level: 0 none, 1 basic, 2 full (engine::kyc). outgoing_today: the money that left the wallet
-- on outgoing_day (a UTC day), counted by engine::apply from the events' own times. Constant
-- defaults: existing rows are not rewritten.
ALTER TABLE wallets
  ADD COLUMN kyc_level      smallint NOT NULL DEFAULT 0,
  ADD COLUMN outgoing_day   date     NOT NULL DEFAULT DATE '1970-01-01',
  ADD COLUMN outgoing_today bigint   NOT NULL DEFAULT 0,
  ADD CONSTRAINT wallets_kyc_level_valid CHECK (kyc_level IN (0, 1, 2)),
  ADD CONSTRAINT wallets_outgoing_today_valid CHECK (outgoing_today >= 0);

-- The event log accepts the new type. The list only grows and every stored row passed the narrower
-- check, so the new one is added NOT VALID: it binds every row written from now on (and every new
-- partition) without a scan of the whole log inside the migration's transaction.
ALTER TABLE wallet_events DROP CONSTRAINT wallet_events_type_valid;
ALTER TABLE wallet_events ADD CONSTRAINT wallet_events_type_valid CHECK (type IN (
    'wallet_opened', 'deposited', 'withdrawn', 'transfer_debited', 'transfer_credited',
    'transfer_reversed', 'hold_placed', 'hold_captured', 'hold_released', 'hold_expired',
    'wallet_frozen', 'wallet_unfrozen', 'wallet_closed', 'kyc_level_set')) NOT VALID;
