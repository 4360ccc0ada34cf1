-- 0006_wallets_by_owner: lists an owner's wallets page by page in id order (the HTTP API's
-- GET /v1/wallets) without scanning the table. Never edit once released.
CREATE INDEX wallets_owner ON wallets (owner, id);
