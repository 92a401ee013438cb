-- Payments: wallets, a double-entry ledger, payment requests, refunds.
--
-- Money is integer minor units (cents, fen). Every movement is one
-- ledger_transactions row with entries that sum to zero per currency; an
-- account's stored balance is updated in the same write transaction as its
-- entries, so `qun ledger check` can prove balance = SUM(entries). Money that
-- comes from outside (an admin top-up standing in for a payment provider) is
-- drawn from a provider account, which therefore goes negative.

CREATE TABLE ledger_accounts (
    -- `user:<user id>:<CUR>`, `platform:fee:<CUR>`, `provider:<name>:<CUR>`.
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'platform', 'provider')),
    -- The user of a wallet; NULL for the platform and provider accounts.
    owner_id TEXT,
    currency TEXT NOT NULL,
    balance INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_id);

CREATE TABLE ledger_transactions (
    id TEXT PRIMARY KEY,
    -- credit | payment | refund
    kind TEXT NOT NULL,
    -- The payment or refund it belongs to; the top-up's note for credits.
    reference TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ledger_transactions_reference ON ledger_transactions (reference);

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions(id),
    account_id TEXT NOT NULL REFERENCES ledger_accounts(id),
    currency TEXT NOT NULL,
    -- Signed: positive credits the account, negative debits it.
    amount INTEGER NOT NULL
);
CREATE INDEX ledger_entries_transaction ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id);

-- What an app asked a member to pay. No foreign key to installations: the
-- money record outlives an uninstall.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    installation_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    app_slug TEXT NOT NULL,
    payer_id TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    memo TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'settled', 'declined', 'expired')),
    refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    -- Who received what, fixed when it settled (refunds reverse these shares).
    owner_id TEXT,
    developer_id TEXT,
    fee INTEGER NOT NULL DEFAULT 0,
    share INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER,
    UNIQUE (installation_id, idempotency_key)
);
CREATE INDEX payments_payer ON payments (payer_id, status, created_at);
CREATE INDEX payments_pending ON payments (status, expires_at);
CREATE INDEX payments_group ON payments (group_id, created_at);

CREATE TABLE payment_refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments(id),
    idempotency_key TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    -- `app:<installation id>` or `user:<user id>`.
    requested_by TEXT NOT NULL,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions(id),
    created_at INTEGER NOT NULL,
    UNIQUE (payment_id, idempotency_key)
);

-- `Idempotency-Key` of confirm/decline: a replay answers the first result.
CREATE TABLE payment_idempotency (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    -- `confirm:<payment id>` or `decline:<payment id>`; another request
    -- under the same key is refused.
    request TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
