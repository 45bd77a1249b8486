-- Time-driven work and notifications: each instance's due moments, the in-app notices,
-- outbound webhooks per unit with their deliveries, and delegations of a signer's duties.

-- Due moments (a level's limit and escalation, clearance, isolation end, a missed reading,
-- expiries). The transition path keeps an instance's unfired rows equal to its machine's
-- `dueMoments`; a worker claims due rows with FOR UPDATE SKIP LOCKED and, in the same
-- transaction, publishes the outbox event and sets fired_at, so each key fires once.
CREATE TABLE timers (
    id               bigserial PRIMARY KEY,
    key              text NOT NULL UNIQUE,
    instance_id      uuid NOT NULL REFERENCES instances (id),
    kind             text NOT NULL,
    name             text NOT NULL,
    due_at           timestamptz NOT NULL,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    -- A failed firing waits until then; the first try is at due_at.
    next_attempt_at  timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    fired_at         timestamptz,
    -- fired, or stale (too old when its turn came: recorded, nothing sent)
    outcome          text CHECK (outcome IN ('fired', 'stale'))
);
CREATE INDEX timers_due ON timers (next_attempt_at, id) WHERE fired_at IS NULL;
CREATE INDEX timers_instance ON timers (instance_id) WHERE fired_at IS NULL;

-- The notification worker reads the outbox apart from the vehicle-event consumer: its own
-- mark, and a time before which a notice held back by the quiet hours is not looked at.
ALTER TABLE outbox ADD COLUMN notified_at timestamptz;
ALTER TABLE outbox ADD COLUMN notify_after timestamptz;
-- What was in the outbox before notifications existed is history, not news.
UPDATE outbox SET notified_at = created_at;
CREATE INDEX outbox_unnotified ON outbox (id) WHERE notified_at IS NULL;

-- In-app notices, one row per recipient; the key makes a redelivered fact add nothing.
CREATE TABLE notifications (
    id            bigserial PRIMARY KEY,
    key           text NOT NULL UNIQUE,
    user_id       uuid NOT NULL REFERENCES users (id),
    event         text NOT NULL,
    title         text NOT NULL,
    body          text NOT NULL,
    subject_kind  text NOT NULL,
    subject_id    uuid NOT NULL,
    created_at    timestamptz NOT NULL,
    read_at       timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Outbound webhooks per unit (a grid's group robot): events of records inside the unit.
CREATE TABLE webhooks (
    id          uuid PRIMARY KEY,
    unit_id     uuid NOT NULL REFERENCES units (id),
    url         text NOT NULL,
    secret      text NOT NULL,
    events      text[] NOT NULL,
    created_by  uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);
CREATE INDEX webhooks_unit ON webhooks (unit_id) WHERE deleted_at IS NULL;

-- One delivery per webhook and fact; its id is the receiver's deduplication key and stays
-- the same on every retry. pending → delivered, or dead after the last try (replayable).
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id),
    outbox_id        bigint NOT NULL REFERENCES outbox (id),
    event            text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    last_status      integer,
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    UNIQUE (webhook_id, outbox_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (webhook_id, id) WHERE status = 'dead';
