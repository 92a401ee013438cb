-- issue 10, item 6: direct messages are bounded per installation per minute
-- and per recipient per minute; both counts are read on every invocation
-- that sends one (and again in its commit), so they must be index range scans.
CREATE INDEX direct_messages_installation ON direct_messages (installation_id, created_at);
CREATE INDEX direct_messages_installation_recipient ON direct_messages (installation_id, recipient_id, created_at);
