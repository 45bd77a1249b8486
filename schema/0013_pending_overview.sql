-- 待办总览 counts what is pending by unit and level with the overdue count. Counting the pending
-- rows themselves costs one visit per row (0.8 s with 300,000 pending); this keeps the counts.
--
-- pending_tally holds, per kind, unit, level and the day the item falls due (days since
-- 1970-01-01 in UTC; 0 for any day before yesterday; 2147483647 for no limit), how many are
-- pending. Every change of an instance's pending columns appends to pending_tally_deltas (a
-- trigger, so no write path can forget it and concurrent writers never wait on one counter
-- row); pending_tally_fold() moves the deltas into pending_tally, and the service calls it every
-- few seconds. A reader adds both
-- tables, so its count is exact whether or not the fold has run. Overdue = everything due on an
-- earlier day, plus what is due today before now, counted from the pending rows due today.

CREATE TABLE pending_tally (
    kind       text NOT NULL,
    unit_path  ltree NOT NULL,
    level      smallint NOT NULL,
    due_day    integer NOT NULL,
    pending    bigint NOT NULL,
    PRIMARY KEY (kind, unit_path, level, due_day)
);

CREATE TABLE pending_tally_deltas (
    kind       text NOT NULL,
    unit_path  ltree NOT NULL,
    level      smallint NOT NULL,
    due_day    integer NOT NULL,
    delta      integer NOT NULL
);

CREATE FUNCTION pending_due_day(due timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN due IS NULL OR due = 'infinity' THEN 2147483647
                ELSE floor(extract(epoch FROM due) / 86400)::integer END
$$;

CREATE FUNCTION instances_pending_tally() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.pending_role IS NOT NULL THEN
        INSERT INTO pending_tally_deltas (kind, unit_path, level, due_day, delta)
        VALUES (OLD.kind, OLD.unit_path, coalesce(OLD.pending_level, 0), pending_due_day(OLD.due_at), -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.pending_role IS NOT NULL THEN
        INSERT INTO pending_tally_deltas (kind, unit_path, level, due_day, delta)
        VALUES (NEW.kind, NEW.unit_path, coalesce(NEW.pending_level, 0), pending_due_day(NEW.due_at), 1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER instances_pending_tally_insert_delete AFTER INSERT OR DELETE ON instances
    FOR EACH ROW EXECUTE FUNCTION instances_pending_tally();
CREATE TRIGGER instances_pending_tally_update AFTER UPDATE ON instances
    FOR EACH ROW
    WHEN ((OLD.pending_role IS NOT NULL OR NEW.pending_role IS NOT NULL)
          AND (OLD.pending_role IS DISTINCT FROM NEW.pending_role
               OR OLD.pending_level IS DISTINCT FROM NEW.pending_level
               OR OLD.unit_path IS DISTINCT FROM NEW.unit_path
               OR OLD.due_at IS DISTINCT FROM NEW.due_at
               OR OLD.kind IS DISTINCT FROM NEW.kind))
    EXECUTE FUNCTION instances_pending_tally();

-- Moves the deltas into the tally, then merges the days before yesterday (`today` is the
-- caller's day, days since 1970-01-01 in UTC) into day 0: once overdue, always overdue, so the
-- tally keeps a few rows per unit and level however old the pending items are. The day of margin
-- covers servers whose clocks differ. One caller at a time (the others return at once); a
-- delta appended meanwhile stays for the next call. Returns the number of deltas moved.
CREATE FUNCTION pending_tally_fold(today integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    moved integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('signoff.pending_tally_fold')) THEN
        RETURN 0;
    END IF;
    WITH gone AS (
        DELETE FROM pending_tally_deltas RETURNING kind, unit_path, level, due_day, delta
    ), summed AS (
        SELECT kind, unit_path, level, due_day, sum(delta) AS delta, count(*) AS n
          FROM gone GROUP BY 1, 2, 3, 4
    ), applied AS (
        INSERT INTO pending_tally AS t (kind, unit_path, level, due_day, pending)
        SELECT kind, unit_path, level, due_day, delta FROM summed WHERE delta <> 0
         ORDER BY kind, unit_path, level, due_day
        ON CONFLICT (kind, unit_path, level, due_day) DO UPDATE SET pending = t.pending + EXCLUDED.pending
    )
    SELECT coalesce(sum(n), 0)::integer INTO moved FROM summed;
    WITH old AS (
        DELETE FROM pending_tally WHERE due_day > 0 AND due_day < today - 1
        RETURNING kind, unit_path, level, pending
    )
    INSERT INTO pending_tally AS t (kind, unit_path, level, due_day, pending)
    SELECT kind, unit_path, level, 0, sum(pending) FROM old GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (kind, unit_path, level, due_day) DO UPDATE SET pending = t.pending + EXCLUDED.pending;
    DELETE FROM pending_tally WHERE pending = 0;
    RETURN moved;
END
$$;

-- What is due today, for the overdue count of the current day.
CREATE INDEX instances_pending_due ON instances (kind, due_at) WHERE pending_role IS NOT NULL;

INSERT INTO pending_tally (kind, unit_path, level, due_day, pending)
SELECT kind, unit_path, coalesce(pending_level, 0), pending_due_day(due_at), count(*)
  FROM instances WHERE pending_role IS NOT NULL
 GROUP BY 1, 2, 3, 4;

-- The plate filter of 待办总览 and its CSV: the text people type part of ("77001"), matched
-- anywhere and without regard to case, through a trigram index over the pending rows only.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE instances ADD COLUMN label text;
UPDATE instances SET label = state ->> 'plate'
 WHERE kind IN ('vehicle_pass', 'parking_pledge', 'agricultural_pass') AND state ? 'plate';
CREATE INDEX instances_pending_label ON instances USING gin (label gin_trgm_ops)
    WHERE pending_role IS NOT NULL AND label IS NOT NULL;
