-- Files (issue 17). Bytes live in the blob store (a local directory or an
-- S3-compatible bucket) under `blobs/<sha256>`, stored once per content;
-- `blobs.refs` counts the files using them, and the sweep removes a blob
-- only when no file does.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    refs INTEGER NOT NULL,
    touched_at INTEGER NOT NULL
);
CREATE INDEX blobs_unused ON blobs (refs, touched_at);

-- A file of a group: uploaded by a member or created by an app.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT,
    created_by TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX files_group ON files (group_id);
CREATE INDEX files_uploader ON files (uploaded_by, created_at);

-- The files an installation holds (it created them, or a member gave them).
CREATE TABLE installation_files (
    installation_id TEXT NOT NULL,
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    PRIMARY KEY (installation_id, file_id)
);
CREATE INDEX installation_files_file ON installation_files (file_id);

-- Who may download a file besides its uploader: the members who see a
-- message showing it (`viewer` NULL: the whole group; else the one member a
-- private reply or a direct message is for).
CREATE TABLE file_shares (
    file_id TEXT NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    message_id INTEGER,
    direct_id INTEGER,
    viewer TEXT
);
CREATE INDEX file_shares_file ON file_shares (file_id);
CREATE INDEX file_shares_message ON file_shares (message_id);
