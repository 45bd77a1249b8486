-- Returnee isolation by points 积分管理: who returned, the household infraction ledger and
-- the separate autonomy-credit ledger. The isolation itself is a `returnee_isolation` row of
-- `instances`; these tables hold what is not one machine's state.

-- A returnee's registration: which household the isolation belongs to, so a new ledger
-- entry finds every open isolation of that household. Written with the `register` transition.
CREATE TABLE returnees (
    id             uuid PRIMARY KEY REFERENCES instances (id),
    person_id      uuid NOT NULL REFERENCES persons (id),
    household_id   uuid NOT NULL REFERENCES households (id),
    registered_at  timestamptz NOT NULL
);
CREATE INDEX returnees_household ON returnees (household_id);
CREATE INDEX returnees_person ON returnees (person_id);

-- Points against a household 积分 (infractions). Never mixed with autonomy credit.
-- `recorded_by` is a user, or the service's reserved id for entries from vehicle events.
CREATE TABLE infraction_entries (
    id                uuid PRIMARY KEY,
    household_id      uuid NOT NULL REFERENCES households (id),
    person_id         uuid REFERENCES persons (id),
    grid_path         ltree NOT NULL,
    kind              text NOT NULL,
    points            integer NOT NULL CHECK (points > 0),
    note              text,
    source_key        text,
    recorded_at       timestamptz NOT NULL,
    recorded_by       uuid NOT NULL,
    recorded_by_name  text NOT NULL,
    policy_version    text NOT NULL
);
CREATE INDEX infraction_entries_household ON infraction_entries (household_id, recorded_at, id);
-- The same published fact delivered twice scores once.
CREATE UNIQUE INDEX infraction_entries_source ON infraction_entries (source_key) WHERE source_key IS NOT NULL;

-- Autonomy credit 自治积分 earned by a household: its own ledger, never offsetting infractions.
CREATE TABLE autonomy_credits (
    id                uuid PRIMARY KEY,
    household_id      uuid NOT NULL REFERENCES households (id),
    person_id         uuid REFERENCES persons (id),
    grid_path         ltree NOT NULL,
    kind              text NOT NULL,
    points            integer NOT NULL CHECK (points > 0),
    note              text NOT NULL,
    recorded_at       timestamptz NOT NULL,
    recorded_by       uuid NOT NULL,
    recorded_by_name  text NOT NULL,
    policy_version    text NOT NULL
);
CREATE INDEX autonomy_credits_household ON autonomy_credits (household_id, recorded_at, id);

-- Ledgers are append-only: a mistaken entry is answered by the record, not erased.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'SO002';
END
$$;
CREATE TRIGGER infraction_entries_append_only BEFORE UPDATE OR DELETE ON infraction_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER autonomy_credits_append_only BEFORE UPDATE OR DELETE ON autonomy_credits
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

-- Urgent items: fevers use instances_pending; missed daily readings are found by due time.
CREATE INDEX instances_returnee_due ON instances (due_at)
    WHERE kind = 'returnee_isolation' AND due_at IS NOT NULL;

-- The vehicle-event consumer claims undelivered rows by name; a row that keeps failing is
-- counted and set aside after a few attempts instead of blocking the queue.
ALTER TABLE outbox ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error text;
CREATE INDEX outbox_undelivered_by_name ON outbox (name, id) WHERE delivered_at IS NULL;
