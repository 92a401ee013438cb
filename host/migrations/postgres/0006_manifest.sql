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

-- Backfill from the manifests already stored (all written by the host as JSON).
INSERT INTO version_commands (app_slug, version, command, description)
SELECT v.app_slug, v.version, c->>'name', COALESCE(c->>'description', '')
FROM app_versions v
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(v.manifest::jsonb -> 'commands') = 'array'
         THEN v.manifest::jsonb -> 'commands' ELSE '[]'::jsonb END) c
WHERE jsonb_typeof(c -> 'name') = 'string'
ON CONFLICT DO NOTHING;

INSERT INTO version_subscriptions (app_slug, version, subscription)
SELECT v.app_slug, v.version, s #>> '{}'
FROM app_versions v
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(v.manifest::jsonb -> 'subscriptions') = 'array'
         THEN v.manifest::jsonb -> 'subscriptions' ELSE '[]'::jsonb END) s
WHERE jsonb_typeof(s) = 'string'
ON CONFLICT DO NOTHING;

-- Where two installed apps declared the same command, the one whose slug
-- sorts first answered it so far; it keeps it.
INSERT INTO installation_commands (group_id, command, installation_id)
SELECT DISTINCT ON (i.group_id, vc.command) i.group_id, vc.command, i.id
FROM installations i
JOIN version_commands vc ON vc.app_slug = i.app_slug AND vc.version = i.version
ORDER BY i.group_id, vc.command, i.app_slug, i.id
ON CONFLICT DO NOTHING;
