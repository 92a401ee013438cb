-- An invocation's commit in one round trip (issue 12 item 2): the common
-- shape (keys read, keys written, timers, audit rows of one chain) as one call,
-- autocommitted, so the installation's lock is held for the call alone
-- instead of over a transaction's six round trips. The host builds the
-- argument (`host/src/store/commit.rs`) and falls back to its transaction
-- for every other shape; both take the same advisory lock, so they exclude
-- each other.
--
-- Keys are looked up one by one in the (installation_id, key) index, however
-- many keys the installation has (correlated scalar subqueries, deletes in a
-- loop: with a join or `= ANY`, the planner may scan every key of the
-- installation when its statistics think it has few).
--
-- Each statement of a volatile function takes a fresh snapshot (READ
-- COMMITTED), so the reads checked after the lock see every commit that
-- released it. A refusal raises one of these, which rolls the call back
-- whole:
--   QU001 a key read has changed            QU005 a grant the effects need is gone (message: its name)
--   QU002 the installation is gone           QU006 over the storage bytes quota
--   QU003 the installation is disabled       QU007 over the storage keys quota
--   QU004 the app is suspended               QU008 over the pending timers limit
CREATE OR REPLACE FUNCTION qun_commit(p jsonb)
RETURNS TABLE (clock bigint, bytes bigint, keys bigint, audit_seq bigint, audit_head text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    inst text := p->>'installation';
    delta_bytes bigint;
    delta_keys bigint;
    now_enabled bigint;
    now_suspended bigint;
    missing text;
    timers_set bigint;
    chain_name text := p->'audit'->>'chain';
    chain_json text := p->'audit'->>'chain_json';
    audit_rows jsonb := p->'audit'->'rows';
    arow jsonb;
    gone text;
BEGIN
    PERFORM pg_advisory_xact_lock((p->>'lock')::bigint);

    -- One statement (a fresh snapshot, taken after the lock): when every key
    -- read is as it was read, the tick (the clock, and the storage use moved
    -- by what the written keys held before), the keys written and the timers
    -- set — all of these, or none when the new ones would take the
    -- installation past its limit of pending timers (the count comes back
    -- short and the call is refused). A refusal below rolls it all back.
    WITH was AS (
        SELECT COALESCE(SUM(w.size), 0) AS bytes, COUNT(w.size) AS keys
          FROM (SELECT (SELECT octet_length(kv.key) + length(kv.value) FROM kv
                         WHERE kv.installation_id = inst AND kv.key = k.key) AS size
                  FROM (SELECT e->>0 AS key FROM jsonb_array_elements(p->'puts') e
                        UNION ALL SELECT jsonb_array_elements_text(p->'deletes')) k) w
    ), delta AS (
        SELECT (p->>'put_bytes')::bigint - was.bytes AS bytes,
               jsonb_array_length(p->'puts') - was.keys AS keys
          FROM was
    ), ticked AS (
        UPDATE installations i
           SET kv_clock = i.kv_clock + 1,
               storage_bytes = i.storage_bytes + delta.bytes,
               storage_keys = i.storage_keys + delta.keys
          FROM delta
         WHERE i.id = inst
           AND NOT EXISTS (
               SELECT 1 FROM jsonb_array_elements(p->'reads') r
                WHERE (SELECT kv.version FROM kv WHERE kv.installation_id = inst AND kv.key = r->>0)
                      IS DISTINCT FROM (r->>1)::bigint)
        RETURNING i.kv_clock, i.storage_bytes, i.storage_keys, delta.bytes AS delta_bytes,
                  delta.keys AS delta_keys, i.enabled,
                  (SELECT a.suspended_at FROM apps a WHERE a.slug = i.app_slug) AS suspended_at,
                  (SELECT n.cap FROM jsonb_array_elements_text(p->'needs') WITH ORDINALITY AS n(cap, o)
                    WHERE NOT (i.grants::jsonb ? n.cap) ORDER BY n.o LIMIT 1) AS missing
    ), put AS (
        INSERT INTO kv (installation_id, key, value, version)
        SELECT inst, e->>0, decode(e->>1, 'hex'), ticked.kv_clock
          FROM ticked, jsonb_array_elements(p->'puts') e
        ON CONFLICT (installation_id, key) DO UPDATE SET value = excluded.value, version = excluded.version
    ), t AS (
        SELECT e->>0 AS key, (e->>1)::bigint AS due_at, e->>2 AS payload, e->>3 AS rule
          FROM jsonb_array_elements(p->'timers') e
    ), fits AS (
        SELECT (SELECT COUNT(*) FROM t WHERE (SELECT 1 FROM timers x
                    WHERE x.installation_id = inst AND x.key = t.key) IS NULL) AS fresh,
               (SELECT COUNT(*) FROM timers x WHERE x.installation_id = inst)
                 - (SELECT COUNT(*) FROM jsonb_array_elements_text(p->'cancels') c
                     WHERE (SELECT 1 FROM timers x WHERE x.installation_id = inst AND x.key = c)
                           IS NOT NULL) AS pending
    ), timed AS (
        INSERT INTO timers (installation_id, key, due_at, payload, rule, created_at)
        SELECT inst, t.key, t.due_at, t.payload, t.rule, (p->>'now')::bigint
          FROM ticked, t, fits
         WHERE fits.fresh = 0 OR fits.pending + fits.fresh <= (p->>'timers_max')::bigint
        ON CONFLICT (installation_id, key) DO UPDATE
           SET due_at = excluded.due_at, payload = excluded.payload, rule = excluded.rule
        RETURNING 1
    )
    SELECT ticked.kv_clock, ticked.storage_bytes, ticked.storage_keys, ticked.delta_bytes,
           ticked.delta_keys, ticked.enabled, ticked.suspended_at, ticked.missing,
           (SELECT COUNT(*) FROM timed) - jsonb_array_length(p->'timers')
      FROM ticked
      INTO clock, bytes, keys, delta_bytes, delta_keys, now_enabled, now_suspended, missing, timers_set;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM installations WHERE id = inst) THEN
            RAISE EXCEPTION 'a key read has changed' USING ERRCODE = 'QU001';
        END IF;
        RAISE EXCEPTION 'the installation is gone' USING ERRCODE = 'QU002';
    END IF;
    IF now_enabled = 0 THEN
        RAISE EXCEPTION 'the installation is disabled' USING ERRCODE = 'QU003';
    END IF;
    IF now_suspended IS NOT NULL THEN
        RAISE EXCEPTION 'the app is suspended' USING ERRCODE = 'QU004';
    END IF;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION '%', missing USING ERRCODE = 'QU005';
    END IF;
    IF bytes > (p->>'bytes_max')::bigint AND delta_bytes > 0 THEN
        RAISE EXCEPTION 'over the storage bytes quota' USING ERRCODE = 'QU006';
    END IF;
    IF keys > (p->>'keys_max')::bigint AND delta_keys > 0 THEN
        RAISE EXCEPTION 'over the storage keys quota' USING ERRCODE = 'QU007';
    END IF;
    IF timers_set < 0 THEN
        RAISE EXCEPTION 'over the pending timers limit' USING ERRCODE = 'QU008';
    END IF;
    -- The keys deleted and the timers cancelled (counted above), one by one.
    IF jsonb_array_length(p->'deletes') > 0 THEN
        FOR gone IN SELECT jsonb_array_elements_text(p->'deletes') LOOP
            DELETE FROM kv WHERE kv.installation_id = inst AND kv.key = gone;
        END LOOP;
    END IF;
    IF jsonb_array_length(p->'cancels') > 0 THEN
        FOR gone IN SELECT jsonb_array_elements_text(p->'cancels') LOOP
            DELETE FROM timers WHERE timers.installation_id = inst AND timers.key = gone;
        END LOOP;
    END IF;

    -- The audit rows, each linked after the chain's head as it is now (the
    -- update row-locks it), as AuditRecord::chained_hash links them; a
    -- chain's first row creates its head first.
    FOR o IN 0 .. COALESCE(jsonb_array_length(audit_rows), 0) - 1 LOOP
        arow := audit_rows->o;
        LOOP
            WITH linked AS (
                UPDATE audit_chains c
                   SET seq = c.seq + 1,
                       head = encode(sha256(convert_to(
                           c.head || E'\n[' || chain_json || ',' || (c.seq + 1) || E']\n' || (arow->>'fields'),
                           'UTF8')), 'hex')
                 WHERE c.chain = chain_name
                RETURNING c.seq, c.head
            ), added AS (
                INSERT INTO audit (at, installation_id, app_slug, app_version, group_id, actor, action,
                                   outcome, detail, duration_us, hash, chain, seq)
                SELECT (arow->>'at')::bigint, arow->>'installation_id', arow->>'app_slug',
                       arow->>'app_version', arow->>'group_id', arow->>'actor', arow->>'action',
                       arow->>'outcome', arow->>'detail', (arow->>'duration_us')::bigint,
                       linked.head, chain_name, linked.seq
                  FROM linked
            )
            SELECT linked.seq, linked.head FROM linked INTO audit_seq, audit_head;
            EXIT WHEN FOUND;
            INSERT INTO audit_chains (chain, seq, head, anchored_seq) VALUES (chain_name, 0, '', 0)
            ON CONFLICT (chain) DO NOTHING;
        END LOOP;
    END LOOP;
    RETURN NEXT;
END
$$;
