-- The live stream asks, per group and about once a second, which messages
-- changed (were updated or deleted) since a moment: answer it from indexes
-- instead of reading every message of the group.
CREATE INDEX messages_group_updated ON messages (group_id, updated_at);
CREATE INDEX messages_group_deleted ON messages (group_id, deleted_at);
