-- Uploads compile outside the request (issue 15): one row per upload, from
-- `compiling` to `done` (the version it became) or `failed` (why).
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    app_slug TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    version TEXT,
    error_code TEXT,
    error_message TEXT,
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX uploads_by_app ON uploads (app_slug, created_at);
