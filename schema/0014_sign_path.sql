-- The sign path in fewer writes (issue 8).
--
-- 1. An instance's chain head is the instance row itself. Its audit_seq is written by its
--    transition's own INSERT or UPDATE (one write of a row the transition locks anyway), no
--    longer by a second UPDATE from a trigger on audit_events, and audit_heads is no longer
--    written for instances: the chain trigger takes the new row's seq from the instance and its
--    prev_hash from the instance's last audit row (one probe of the (subject_id, seq) index).
--    It refuses an audit row the instance does not record (audit_seq not advanced by exactly
--    one): an instance's trail grows only through its transitions, and a transition that
--    forgot to advance audit_seq cannot commit. Seq and prev_hash are still never the caller's.
--    audit_heads keeps the heads of subjects that are not instances, if any; the view
--    audit_chain_heads is every subject's head, for the checks and the signed checkpoints.
DROP TRIGGER audit_mark_instance ON audit_events;
DROP FUNCTION audit_mark_instance();
DELETE FROM audit_heads h USING instances i WHERE i.id = h.subject_id;

CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads%ROWTYPE;
    recorded integer;
    last_seq integer;
    last_hash bytea;
BEGIN
    SELECT audit_seq INTO recorded FROM instances WHERE id = NEW.subject_id;
    IF FOUND THEN
        SELECT e.seq, e.hash INTO last_seq, last_hash
          FROM audit_events e WHERE e.subject_id = NEW.subject_id ORDER BY e.seq DESC LIMIT 1;
        IF recorded IS NULL OR recorded <> coalesce(last_seq, 0) + 1 THEN
            RAISE EXCEPTION 'audit row of instance % refused: the instance records audit seq %, its trail ends at %; its trail grows only through its transitions',
                NEW.subject_id, recorded, coalesce(last_seq, 0) USING ERRCODE = 'SO002';
        END IF;
        NEW.seq := recorded;
        NEW.prev_hash := last_hash;
        NEW.hash := audit_hash(NEW);
        RETURN NEW;
    END IF;
    INSERT INTO audit_heads (subject_id, subject_kind, seq, head_hash)
    VALUES (NEW.subject_id, NEW.subject_kind, 0, NULL)
    ON CONFLICT (subject_id) DO NOTHING;
    SELECT * INTO head FROM audit_heads WHERE subject_id = NEW.subject_id FOR UPDATE;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.head_hash;
    NEW.hash := audit_hash(NEW);
    UPDATE audit_heads SET seq = NEW.seq, head_hash = NEW.hash WHERE subject_id = NEW.subject_id;
    RETURN NEW;
END
$$;

-- Every subject's chain head: an instance's is the row its audit_seq names (no hash when that
-- row is missing, which the checks report), any other subject's is kept in audit_heads.
CREATE VIEW audit_chain_heads AS
SELECT i.id AS subject_id, i.kind AS subject_kind, i.audit_seq AS seq, e.hash AS head_hash
  FROM instances i
  LEFT JOIN audit_events e ON e.subject_id = i.id AND e.seq = i.audit_seq
 WHERE i.audit_seq IS NOT NULL
UNION ALL
SELECT subject_id, subject_kind, seq, head_hash FROM audit_heads;

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
