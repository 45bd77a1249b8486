-- Delegations 委托代签: each is a `delegation` instance (active → revoked, expiry derived from
-- its period) written by the transition path. This table gives it its number #n, shown to
-- users, and keeps the columns the lookups need (who delegated, which role at which unit) so
-- no query reads the state document. A row is written in the same transaction as the
-- instance's start; the instance follows it within the transaction, hence the deferred key.
CREATE TABLE delegations (
    -- Gapless: the store takes max + 1 under a lock, so a refused request uses up no number.
    number        integer PRIMARY KEY CHECK (number > 0),
    instance_id   uuid NOT NULL UNIQUE REFERENCES instances (id) DEFERRABLE INITIALLY DEFERRED,
    delegator_id  uuid NOT NULL REFERENCES users (id),
    delegate_id   uuid NOT NULL REFERENCES users (id),
    role          text NOT NULL,
    unit_id       uuid NOT NULL REFERENCES units (id),
    valid_from    timestamptz NOT NULL,
    valid_until   timestamptz NOT NULL,
    CHECK (valid_from < valid_until)
);
CREATE INDEX delegations_delegator ON delegations (delegator_id);
CREATE INDEX delegations_delegate ON delegations (delegate_id);
CREATE INDEX delegations_role_unit ON delegations (role, unit_id);
