-- Typed manifests (issue 10 items 4 and 5): the commands and subscriptions a
-- version declares in their own rows, and which installation answers which
-- command in a group, so routing a command or fanning out `message-posted`
-- is one indexed query and never parses manifest JSON.

CREATE TABLE version_commands (
    app_slug TEXT NOT NULL,
    version TEXT NOT NULL,
    command TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (app_slug, version, command),
    FOREIGN KEY (app_slug, version) REFERENCES app_versions (app_slug, version) ON DELETE CASCADE
);

CREATE TABLE version_subscriptions (
    app_slug TEXT NOT NULL,
    version TEXT NOT NULL,
    subscription TEXT NOT NULL,
    PRIMARY KEY (app_slug, version, subscription),
    FOREIGN KEY (app_slug, version) REFERENCES app_versions (app_slug, version) ON DELETE CASCADE
);

-- A command belongs to one installation per group.
CREATE TABLE installation_commands (
    group_id TEXT NOT NULL,
    command TEXT NOT NULL,
    installation_id TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, command)
);
CREATE INDEX installation_commands_installation ON installation_commands (installation_id);

-- Backfill from the manifests already stored.
INSERT OR IGNORE INTO version_commands (app_slug, version, command, description)
SELECT v.app_slug, v.version, json_extract(c.value, '$.name'),
       COALESCE(json_extract(c.value, '$.description'), '')
FROM app_versions v,
     json_each(CASE WHEN NOT json_valid(v.manifest) THEN '{"commands":[]}'
                    WHEN json_type(v.manifest, '$.commands') = 'array' THEN v.manifest
                    ELSE '{"commands":[]}' END, '$.commands') c
WHERE CASE WHEN c.type = 'object' THEN json_type(c.value, '$.name') = 'text' ELSE 0 END;

INSERT OR IGNORE INTO version_subscriptions (app_slug, version, subscription)
SELECT v.app_slug, v.version, s.value
FROM app_versions v,
     json_each(CASE WHEN NOT json_valid(v.manifest) THEN '{"subscriptions":[]}'
                    WHEN json_type(v.manifest, '$.subscriptions') = 'array' THEN v.manifest
                    ELSE '{"subscriptions":[]}' END, '$.subscriptions') s
WHERE s.type = 'text';

-- Where two installed apps declared the same command, the one whose slug
-- sorts first answered it so far; it keeps it.
INSERT OR IGNORE INTO installation_commands (group_id, command, installation_id)
SELECT i.group_id, vc.command, i.id
FROM installations i
JOIN version_commands vc ON vc.app_slug = i.app_slug AND vc.version = i.version
ORDER BY i.app_slug, i.id;
