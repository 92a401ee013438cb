-- Qun's schema on PostgreSQL. Every timestamp is milliseconds since the Unix epoch
-- (BIGINT), every id is host-generated TEXT, flags are BIGINT 0/1, JSON is TEXT:
-- the same Rust code reads SQLite and PostgreSQL through sqlx's Any driver.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- sha256 of the bearer token; the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    is_admin BIGINT NOT NULL DEFAULT 0,
    is_developer BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE members (
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

CREATE TABLE apps (
    slug TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    developer_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);

-- One row per uploaded version. The bytes are kept so any host sharing this
-- database can load the exact component that was uploaded (checked by sha256).
CREATE TABLE app_versions (
    app_slug TEXT NOT NULL REFERENCES apps(slug),
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    wasm BYTEA NOT NULL,
    capabilities TEXT NOT NULL,
    manifest TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (app_slug, version)
);

CREATE TABLE installations (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    app_slug TEXT NOT NULL REFERENCES apps(slug),
    version TEXT NOT NULL,
    grants TEXT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    -- Storage use, kept up to date by every commit, so quotas cost no scan.
    storage_bytes BIGINT NOT NULL DEFAULT 0,
    storage_keys BIGINT NOT NULL DEFAULT 0,
    -- Bumped by every commit that writes storage; a key's version is the clock
    -- of the commit that last wrote it, so a deleted and re-created key never
    -- looks unchanged to an optimistic reader.
    kv_clock BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (group_id, app_slug)
);

CREATE TABLE kv (
    installation_id TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
    key TEXT COLLATE "C" NOT NULL,
    value BYTEA NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (installation_id, key)
);

-- Messages of a group, from members (user_id) or apps (installation_id).
-- The id orders a group's messages and is the stream's event id.
CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id TEXT,
    installation_id TEXT,
    text TEXT,
    card TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_group ON messages (group_id, id);
CREATE INDEX messages_installation ON messages (installation_id, created_at);

CREATE TABLE direct_messages (
    id BIGSERIAL PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    recipient_id TEXT NOT NULL REFERENCES users(id),
    installation_id TEXT NOT NULL,
    text TEXT,
    card TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX direct_messages_recipient ON direct_messages (recipient_id, id);

CREATE TABLE timers (
    installation_id TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
    key TEXT COLLATE "C" NOT NULL,
    due_at BIGINT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (installation_id, key)
);
CREATE INDEX timers_due ON timers (due_at);

-- One row per capability call an app made (and, later, per human decision).
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    installation_id TEXT,
    app_slug TEXT,
    app_version TEXT,
    group_id TEXT,
    actor TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT,
    duration_us BIGINT NOT NULL
);
CREATE INDEX audit_installation ON audit (installation_id, id);

-- The app's own log lines, its stdout/stderr and its failures.
CREATE TABLE app_logs (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    installation_id TEXT,
    app_slug TEXT NOT NULL,
    app_version TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX app_logs_app ON app_logs (app_slug, id);
