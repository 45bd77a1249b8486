-- Signed audit heads and the grid workers' daily visits.

-- 审计签名链头: a signed, dated statement of every subject's chain head (AuditStatement), as
-- written by `signoff audit checkpoint` (trigger 'manual') or by the service once a China-time
-- day (trigger 'daily'). The statement text is the file an auditor keeps; the columns repeat
-- what the page lists. One daily statement per day, however many instances run.
CREATE TABLE audit_checkpoints (
    id           uuid PRIMARY KEY,
    created_at   timestamptz NOT NULL,
    -- The China-time date of created_at.
    day          date NOT NULL,
    trigger      text NOT NULL CHECK (trigger IN ('daily', 'manual')),
    records      bigint NOT NULL,
    subjects     integer NOT NULL,
    merkle_root  text NOT NULL,
    key_id       text NOT NULL,
    statement    text NOT NULL
);
CREATE INDEX audit_checkpoints_created ON audit_checkpoints (created_at DESC);
CREATE UNIQUE INDEX audit_checkpoints_daily ON audit_checkpoints (day) WHERE trigger = 'daily';

-- 上下午走访: one `household_visit` instance per household and half-day. Its projection puts the
-- household in subject_ref and the half-day ('2020-02-20 am') in category; the exclusive key
-- (instances_exclusive) makes a second visit of the same half-day a duplicate. Coverage and
-- "not visited yet" read this index, per half-day.
CREATE INDEX instances_visit_slot ON instances (category, subject_ref) WHERE kind = 'household_visit';
