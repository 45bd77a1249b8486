-- The sign path in fewer writes (issue 8).
--
-- 1. An instance's audit_seq is written by its transition's own INSERT or UPDATE (one write of
--    the row), no longer by a second UPDATE from a trigger on audit_events. The chain trigger
--    still numbers and links every audit row itself, and now refuses an instance's audit row
--    whose number is not the one the instance records: an instance's trail grows only through
--    its transitions, and a transition that forgot to advance audit_seq cannot commit.
DROP TRIGGER audit_mark_instance ON audit_events;
DROP FUNCTION audit_mark_instance();

CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads%ROWTYPE;
    recorded integer;
BEGIN
    INSERT INTO audit_heads (subject_id, subject_kind, seq, head_hash)
    VALUES (NEW.subject_id, NEW.subject_kind, 0, NULL)
    ON CONFLICT (subject_id) DO NOTHING;
    SELECT * INTO head FROM audit_heads WHERE subject_id = NEW.subject_id FOR UPDATE;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.head_hash;
    NEW.hash := audit_hash(NEW);
    UPDATE audit_heads SET seq = NEW.seq, head_hash = NEW.hash WHERE subject_id = NEW.subject_id;
    SELECT audit_seq INTO recorded FROM instances WHERE id = NEW.subject_id;
    IF FOUND AND recorded IS DISTINCT FROM NEW.seq THEN
        RAISE EXCEPTION 'audit row % of instance % refused: the instance records audit seq %; its trail grows only through its transitions',
            NEW.seq, NEW.subject_id, recorded USING ERRCODE = 'SO002';
    END IF;
    RETURN NEW;
END
$$;

-- 2. Write counts (`WriteLimiter`) are counted in the write's own transaction, so a bucket is
--    spread over shards (one per database session, modulo a number the service picks) that
--    concurrent writers do not share, and summed. The counts are unlogged: they live for a
--    60-second window, and a crash of the database may forget them (every bucket starts again
--    at zero), which costs nothing that matters and saves a WAL record per write.
DELETE FROM write_limits;
ALTER TABLE write_limits DROP CONSTRAINT write_limits_pkey;
ALTER TABLE write_limits ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE write_limits ALTER COLUMN shard DROP DEFAULT;
ALTER TABLE write_limits ADD PRIMARY KEY (bucket, shard);
-- The prune scans this small table; without the index, a count's update is a HOT update.
DROP INDEX write_limits_window;
ALTER TABLE write_limits SET UNLOGGED;
