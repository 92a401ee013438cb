-- The durable event outbox: one row per event for one installation, written in
-- the same transaction as the change that caused it, delivered in id order per
-- installation (at least once), retried with backoff, parked after too many
-- failed attempts. A host claims the head event of an installation with a lease
-- (claimed_by, claimed_until) so two hosts never deliver one installation's
-- events concurrently or out of order.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    installation_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    -- JSON of `EventBody`.
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'parked')),
    last_error TEXT,
    delivered_at INTEGER,
    claimed_by TEXT,
    claimed_until INTEGER
);
CREATE INDEX outbox_pending ON outbox (status, installation_id, id);
CREATE INDEX outbox_installation ON outbox (installation_id, id);
