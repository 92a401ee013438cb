-- issue 11 item 7: tokens have a lifecycle. A user holds any number of named
-- tokens, each with a scope (`full`, or `publish`: uploading app versions
-- only), an optional expiry and a revocation time; a platform admin can
-- disable a user. Both are read on every request, so a revocation or a
-- disabling holds on the next request on every host sharing the database.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    -- sha256 of the bearer token; the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL DEFAULT 'full',
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id, created_at);

-- Every existing user's token becomes their first named token.
INSERT INTO tokens (id, user_id, name, token_hash, scope, created_at)
    SELECT 't_' || id, id, 'initial', token_hash, 'full', created_at FROM users;

ALTER TABLE users ADD COLUMN disabled_at BIGINT;
