-- Foundation: organisation, accounts, workflow instances, the audit chain, idempotency, outbox.

CREATE EXTENSION IF NOT EXISTS ltree;

-- The jurisdiction tree: township → village → group → grid. `path` is the materialised
-- path of unit codes, so "everything under this unit" is an index scan on the GiST index.
CREATE TABLE units (
    id          uuid PRIMARY KEY,
    parent_id   uuid REFERENCES units (id),
    kind        text NOT NULL CHECK (kind IN ('township', 'village', 'group', 'grid')),
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    path        ltree NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((parent_id IS NULL) = (kind = 'township'))
);
CREATE INDEX units_path_gist ON units USING gist (path);
CREATE INDEX units_parent ON units (parent_id);
CREATE UNIQUE INDEX units_single_township ON units ((true)) WHERE parent_id IS NULL;

CREATE TABLE households (
    id          uuid PRIMARY KEY,
    grid_id     uuid NOT NULL REFERENCES units (id),
    code        text NOT NULL UNIQUE,
    head_name   text NOT NULL,
    address     text NOT NULL DEFAULT '',
    poor        boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX households_grid ON households (grid_id);

CREATE TABLE persons (
    id            uuid PRIMARY KEY,
    household_id  uuid NOT NULL REFERENCES households (id),
    name          text NOT NULL,
    id_number     text UNIQUE,
    phone         text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_household ON persons (household_id);

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    username       text NOT NULL UNIQUE,
    phone          text UNIQUE,
    display_name   text NOT NULL,
    password_hash  text,
    person_id      uuid UNIQUE REFERENCES persons (id),
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE role_assignments (
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role     text NOT NULL CHECK (role IN ('grid_worker', 'group_leader', 'branch_secretary', 'village_leader',
                                           'chief_leader', 'health_officer', 'admin', 'worker')),
    unit_id  uuid NOT NULL REFERENCES units (id),
    PRIMARY KEY (user_id, role, unit_id)
);
CREATE INDEX role_assignments_unit ON role_assignments (unit_id, role);

-- Opaque bearer tokens: only a SHA-256 of the token is stored.
CREATE TABLE auth_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

-- Failed logins per account, for slowing down and locking out password guessing.
CREATE TABLE login_throttle (
    user_id          uuid PRIMARY KEY REFERENCES users (id),
    failures         integer NOT NULL,
    first_failure_at timestamptz NOT NULL,
    locked_until     timestamptz
);

-- Every workflow instance: the typed machine's state as JSON, plus the columns inboxes and
-- reports filter on. Only the store's one transition path writes here.
CREATE TABLE instances (
    id              uuid PRIMARY KEY,
    kind            text NOT NULL,
    state_name      text NOT NULL,
    state           jsonb NOT NULL,
    version         integer NOT NULL,
    unit_path       ltree NOT NULL,
    pending_role    text,
    pending_since   timestamptz,
    due_at          timestamptz,
    policy_version  text,
    subject_ref     uuid,
    exclusive_key   text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX instances_kind_state ON instances (kind, state_name);
CREATE INDEX instances_unit_path ON instances USING gist (unit_path);
CREATE INDEX instances_pending ON instances (kind, pending_role, pending_since, id) WHERE pending_role IS NOT NULL;
CREATE INDEX instances_subject ON instances (subject_ref, kind) WHERE subject_ref IS NOT NULL;
-- "One active pledge per vehicle", "one open request per person": a machine names the key.
CREATE UNIQUE INDEX instances_exclusive ON instances (kind, exclusive_key) WHERE exclusive_key IS NOT NULL;

-- The audit trail. Append-only; each subject has its own hash chain, whose head lives in
-- audit_heads so unrelated writes never contend on one row.
CREATE TABLE audit_heads (
    subject_id    uuid PRIMARY KEY,
    subject_kind  text NOT NULL,
    seq           integer NOT NULL,
    head_hash     bytea
);

CREATE TABLE audit_events (
    id               bigserial PRIMARY KEY,
    subject_kind     text NOT NULL,
    subject_id       uuid NOT NULL,
    seq              integer NOT NULL,
    event            text NOT NULL,
    from_state       text,
    to_state         text NOT NULL,
    actor_user_id    uuid,
    actor_name       text NOT NULL,
    actor_role       text,
    actor_unit_id    uuid,
    actor_unit_path  text,
    reason           text,
    payload          jsonb NOT NULL DEFAULT '{}',
    at               timestamptz NOT NULL,
    request_id       text,
    prev_hash        bytea,
    hash             bytea NOT NULL,
    UNIQUE (subject_id, seq)
);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id, at);

-- The canonical text a row's hash covers. Times are rendered in UTC to the microsecond so
-- the encoding does not depend on the session's time zone.
CREATE FUNCTION audit_canonical(e audit_events) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'subject_kind', e.subject_kind,
        'subject_id', e.subject_id::text,
        'seq', e.seq,
        'event', e.event,
        'from_state', e.from_state,
        'to_state', e.to_state,
        'actor_user_id', e.actor_user_id::text,
        'actor_name', e.actor_name,
        'actor_role', e.actor_role,
        'actor_unit_id', e.actor_unit_id::text,
        'actor_unit_path', e.actor_unit_path,
        'reason', e.reason,
        'payload', e.payload,
        'at', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'request_id', e.request_id
    )::text
$$;

CREATE FUNCTION audit_hash(e audit_events) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(coalesce(e.prev_hash, ''::bytea) || convert_to(audit_canonical(e), 'UTF8'))
$$;

-- Links each new row to its subject's chain: seq, prev_hash and hash are never taken from the caller.
CREATE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    head audit_heads%ROWTYPE;
BEGIN
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
CREATE TRIGGER audit_chain BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_chain();

CREATE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'SO001';
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- A stored response per (user, Idempotency-Key), written in the transition's own transaction.
CREATE TABLE idempotency_keys (
    user_id       uuid NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer NOT NULL,
    body          bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Facts for other workflows and notifications, written with the transition that caused them.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL,
    key           text NOT NULL UNIQUE,
    subject_kind  text NOT NULL,
    subject_id    uuid NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    delivered_at  timestamptz
);
CREATE INDEX outbox_undelivered ON outbox (id) WHERE delivered_at IS NULL;
