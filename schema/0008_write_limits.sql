-- Rate limits on writes, shared by every `signoff serve` on this database: one row per
-- bucket (an account or a client address) with the hits of its current fixed window. A write
-- counts itself with one upsert, so several instances see the same counts.
CREATE TABLE write_limits (
    bucket       text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL
);
CREATE INDEX write_limits_window ON write_limits (window_start);
