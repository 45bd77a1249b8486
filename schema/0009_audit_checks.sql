-- Whole-trail chain checks (审计 全部核验) run in the background. The job's progress lives here,
-- not in one instance's memory, so a page polled through any instance shows it, and a job whose
-- instance stopped is taken over by another once its heartbeat is stale.
CREATE TABLE audit_checks (
    id                uuid PRIMARY KEY,
    status            text NOT NULL CHECK (status IN ('running', 'intact', 'broken', 'failed')),
    started_by        uuid NOT NULL REFERENCES users (id),
    started_at        timestamptz NOT NULL,
    heartbeat_at      timestamptz NOT NULL,
    finished_at       timestamptz,
    subjects_total    integer NOT NULL,
    rows_total        integer NOT NULL,
    subjects_checked  integer NOT NULL DEFAULT 0,
    rows_checked      integer NOT NULL DEFAULT 0,
    -- The last subject id done: the next batch starts after it.
    cursor_subject    uuid,
    first_broken_row  bigint,
    first_broken_text text,
    subject_problems  integer NOT NULL DEFAULT 0,
    problems_text     text NOT NULL DEFAULT '',
    error_text        text
);
CREATE INDEX audit_checks_started ON audit_checks (started_at DESC);
-- One check at a time is enough; a second start shows the running one.
CREATE UNIQUE INDEX audit_checks_one_running ON audit_checks ((true)) WHERE status = 'running';
