-- The pending-count trigger (schema 0013) writes a signature's two deltas, -1 for the level
-- signed and +1 for the next, as one INSERT of two rows instead of two statements: one
-- executor run per sign fewer (issue 8, docs/performance.md). What it writes is unchanged.
CREATE OR REPLACE FUNCTION instances_pending_tally() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.pending_role IS NOT NULL AND NEW.pending_role IS NOT NULL THEN
        INSERT INTO pending_tally_deltas (kind, unit_path, level, due_day, delta)
        VALUES (OLD.kind, OLD.unit_path, coalesce(OLD.pending_level, 0), pending_due_day(OLD.due_at), -1),
               (NEW.kind, NEW.unit_path, coalesce(NEW.pending_level, 0), pending_due_day(NEW.due_at), 1);
        RETURN NULL;
    END IF;
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
