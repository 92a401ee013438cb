-- Developer mode (issue 16): installations that follow their app's newest
-- upload, reviewed or not. Only the app's developer makes one, and only in a
-- group they own; nothing unreviewed reaches any other group.
CREATE TABLE dev_installations (
    installation_id TEXT PRIMARY KEY,
    developer_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
