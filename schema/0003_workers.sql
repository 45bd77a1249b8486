-- Migrant workers: one-time activation codes, certificate numbers, trip rosters, the township report.

-- A worker account is created by the grid worker without a password; the worker sets one
-- with this code. Only a SHA-256 of the code is stored; it works once, until expires_at,
-- and a few wrong tries void it.
CREATE TABLE worker_activations (
    user_id     uuid PRIMARY KEY REFERENCES users (id),
    code_hash   bytea NOT NULL,
    expires_at  timestamptz NOT NULL,
    failures    integer NOT NULL DEFAULT 0,
    used_at     timestamptz,
    created_by  uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL
);

-- Numbered documents (health certificates 健康证): the last number handed out per series,
-- taken with UPDATE … RETURNING inside the issuing transaction so numbers never repeat.
CREATE TABLE serial_counters (
    series  text PRIMARY KEY,
    last    integer NOT NULL
);

-- A certificate number is unique in the township (one township per database).
CREATE UNIQUE INDEX instances_certificate_number ON instances ((state ->> 'certificateNumber'))
    WHERE kind = 'certificate_request' AND state ? 'certificateNumber';

-- "Is this worker on another open trip?": roster containment on open trips.
CREATE INDEX instances_trip_workers ON instances USING gin ((state -> 'workers') jsonb_path_ops)
    WHERE kind = 'transport_trip';

-- The township report counts instances of a kind created in a period.
CREATE INDEX instances_kind_created ON instances (kind, created_at);
