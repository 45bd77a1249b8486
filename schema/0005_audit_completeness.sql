-- Audit completeness: each instance records the seq of the audit row of its last transition.
-- The hash chain proves that no row inside a trail was altered; this proves that none was cut
-- from its end (the last rows deleted and audit_heads rewound), which the chain alone cannot.
ALTER TABLE instances ADD COLUMN audit_seq integer;

UPDATE instances i SET audit_seq = h.seq FROM audit_heads h WHERE h.subject_id = i.id;

-- Written by the database in the same transaction as the audit row, so no code path can forget it.
CREATE FUNCTION audit_mark_instance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE instances SET audit_seq = NEW.seq WHERE id = NEW.subject_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_mark_instance AFTER INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_mark_instance();
