-- qun:app@0.2.0 (issue 13): messages made of typed blocks that their app can
-- update and delete, private replies, stored element payloads behind opaque
-- references, pending forms, typed command options, recurring timers, group
-- time zones and languages, member profile cards.

-- A message's blocks (qun_blocks::Message JSON, element payloads included;
-- the API serves references instead). Rows from before keep their `card`
-- and are read as blocks. `visible_to` names the one member who sees a
-- private reply (NULL: everyone). A deleted message keeps its row (the
-- stream shows it as deleted) and loses its content.
-- (`messaging.post` returns the id at once: it is taken with nextval of the
-- messages id sequence during the invocation and inserted at commit.)
ALTER TABLE messages ADD COLUMN blocks TEXT;
ALTER TABLE messages ADD COLUMN visible_to TEXT;
ALTER TABLE messages ADD COLUMN updated_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
CREATE INDEX messages_group_visible ON messages (group_id, visible_to, id);

ALTER TABLE direct_messages ADD COLUMN blocks TEXT;

-- One row per button, menu and member picker of a stored message. Clients
-- see `ref` (128 random bits, hex) instead of the payload; a click names
-- the ref, and the host finds the action and payload bound to this group
-- and message. Replaced when the message is updated, dropped when deleted.
CREATE TABLE message_elements (
    ref TEXT PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    installation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('button', 'select', 'member_picker')),
    options TEXT
);
CREATE INDEX message_elements_message ON message_elements (message_id, position);

-- Forms an app opened for one member, waiting to be submitted.
CREATE TABLE forms (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    installation_id TEXT NOT NULL REFERENCES installations(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    form TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 1,
    origin TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX forms_member ON forms (member_id, created_at);

-- Typed command options (a JSON list of qun_blocks::CommandOption; NULL
-- for 0.1 apps, whose commands take free text).
ALTER TABLE version_commands ADD COLUMN options TEXT;

ALTER TABLE groups ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE groups ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';

-- A member's profile card, where they set it (NULL: not set).
ALTER TABLE users ADD COLUMN avatar_url TEXT;
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN time_zone TEXT;

-- A recurring timer's rule (qun_blocks::Recurrence JSON); NULL: one-off.
-- The host arms the next occurrence when it takes the due one.
ALTER TABLE timers ADD COLUMN rule TEXT;
