-- An invocation's commit that also posts messages (issue 12): the host opens
-- a transaction, calls this, inserts the messages (each one statement, under
-- its group's message order lock) and commits: four round trips where the
-- step-by-step transaction took eight, the installation's lock held over
-- three of them instead of seven.
--
-- It is `qun_commit` (migration 0018; its lock is a transaction lock, so here
-- it is held until the host commits), then the messages-per-minute limit,
-- counted under that lock:
--   QU009 the app would post more than `messages_max` messages in the minute
--         since `since` (ms)
CREATE FUNCTION qun_commit_posting(p jsonb)
RETURNS TABLE (clock bigint, bytes bigint, keys bigint, audit_seq bigint, audit_head text)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT * FROM qun_commit(p);
    IF (SELECT COUNT(*) FROM messages m
         WHERE m.installation_id = p->>'installation'
           AND m.created_at >= (p->>'since')::bigint)
       + (p->>'messages')::bigint > (p->>'messages_max')::bigint THEN
        RAISE EXCEPTION 'over the messages-per-minute limit' USING ERRCODE = 'QU009';
    END IF;
END
$$;
