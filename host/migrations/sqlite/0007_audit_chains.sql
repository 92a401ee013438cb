-- Audit, bounded and without a global lock (issues 10 and 12).
--
-- An invocation leaves at most one summary row (its calls grouped by
-- `interface.function` and outcome, with counts and time) plus individual rows
-- for denials; human decisions stay one row each. Rows are hash-chained per
-- installation (`chain` = the installation id; `app:SLUG` or `host` for
-- decisions about no installation), so commits of different installations
-- never wait on one lock: each chain's head lives in `audit_chains` and is
-- row-locked by the transaction appending to it. Rows written before this
-- migration keep `chain` NULL and stay verified as the old single chain.
ALTER TABLE audit ADD COLUMN chain TEXT;
ALTER TABLE audit ADD COLUMN seq INTEGER;
CREATE UNIQUE INDEX audit_chain_seq ON audit (chain, seq);

-- The head of every chain: its last sequence number and hash. `anchored_seq`
-- is how far the chain is covered by `audit_anchors`.
CREATE TABLE audit_chains (
    chain TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    head TEXT NOT NULL,
    anchored_seq INTEGER NOT NULL DEFAULT 0
);

-- One global chain of chain heads, appended periodically (not by commits):
-- deleting the newest rows of a chain, or a whole chain, breaks an anchor.
CREATE TABLE audit_anchors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    head TEXT NOT NULL,
    hash TEXT NOT NULL
);
