-- Checkpoints 卡点: signed credentials, their revocation, and the duty roster 值班.

-- One signed credential per record that has one: a 通行证 that took effect, a 健康证 issued,
-- a 农用车通行证明 issued. Written only by the transition pipeline's credential reaction, in the
-- transaction of the transition that declared it; `revoked_at` is set by the transition that
-- ends its force (a pass revoked, a certificate revoked), and the revocation list reads it.
CREATE TABLE credentials (
    kind         text NOT NULL CHECK (kind IN ('vehicle_pass', 'health_certificate', 'agricultural_pass')),
    number       text NOT NULL,
    instance_id  uuid NOT NULL REFERENCES instances (id),
    signed       text NOT NULL,
    check_code   text NOT NULL,
    key_id       text NOT NULL,
    subject      text NOT NULL,
    scope        text NOT NULL,
    valid_from   timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL,
    issued_at    timestamptz NOT NULL,
    revoked_at   timestamptz,
    PRIMARY KEY (kind, number)
);
CREATE UNIQUE INDEX credentials_instance ON credentials (instance_id);
CREATE INDEX credentials_check_code ON credentials (check_code);
CREATE INDEX credentials_revoked ON credentials (revoked_at) WHERE revoked_at IS NOT NULL;

-- 值班: leaders assigned to a checkpoint (a code of workflows/checkpoints.yaml) for a shift of a day.
CREATE TABLE duty_assignments (
    id           uuid PRIMARY KEY,
    checkpoint   text NOT NULL,
    day          date NOT NULL,
    shift        text NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id),
    assigned_by  uuid NOT NULL,
    assigned_at  timestamptz NOT NULL,
    UNIQUE (checkpoint, day, shift, user_id)
);
CREATE INDEX duty_assignments_day ON duty_assignments (day, checkpoint, shift);

-- The checkpoint log's report: checks by checkpoint (category) and day.
CREATE INDEX instances_checkpoint_checks ON instances (category, created_at) WHERE kind = 'checkpoint_check';
