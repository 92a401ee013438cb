-- Replay records of failed invocations (issue 16): what the app was asked,
-- every capability call with the host's answer, clock readings and random
-- seeds, as one JSON document (body). The newest few per installation are
-- kept, for a bounded time; only the app's developer and admins read them.
CREATE TABLE replays (
    id TEXT PRIMARY KEY,
    app_slug TEXT NOT NULL,
    app_version TEXT NOT NULL,
    installation_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    incident TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    calls BIGINT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX replays_by_app ON replays (app_slug, created_at);
CREATE INDEX replays_by_installation ON replays (installation_id, created_at);
