-- Vehicle control: the vehicle register, unique pass numbers, agricultural pass serials,
-- and the indexes behind the approval inboxes. The pledges, keys and passes themselves are
-- `instances` rows written by the one transition path.

-- Every vehicle that came into the township 车辆登记. The plate is stored normalised (川Q12345).
CREATE TABLE vehicles (
    id               uuid PRIMARY KEY,
    plate            text NOT NULL UNIQUE,
    plate_kind       text NOT NULL,
    owner_person_id  uuid NOT NULL REFERENCES persons (id),
    household_id     uuid NOT NULL REFERENCES households (id),
    grid_id          uuid NOT NULL REFERENCES units (id),
    grid_path        ltree NOT NULL,
    parking_place    text NOT NULL,
    registered_by    uuid NOT NULL REFERENCES users (id),
    registered_at    timestamptz NOT NULL
);
CREATE INDEX vehicles_household ON vehicles (household_id);
CREATE INDEX vehicles_grid_path ON vehicles USING gist (grid_path);

-- A travel pass number 通行证编号 is derived from the application id; two applications whose
-- ids share their first 8 hex digits in one year must not both print the same number.
CREATE UNIQUE INDEX instances_vehicle_pass_number ON instances ((state ->> 'passNumber'))
    WHERE kind = 'vehicle_pass' AND state ? 'passNumber';

-- The last agricultural pass serial given per township and year; the issuing transaction
-- takes the next one with INSERT … ON CONFLICT DO UPDATE … RETURNING, so concurrent issues
-- queue on the row and a rolled-back issue gives its number back.
CREATE TABLE agricultural_pass_serials (
    township_id  uuid NOT NULL REFERENCES units (id),
    year         integer NOT NULL,
    last_serial  integer NOT NULL,
    PRIMARY KEY (township_id, year)
);
CREATE UNIQUE INDEX instances_agricultural_serial ON instances ((state ->> 'serialNumber'))
    WHERE kind = 'agricultural_pass' AND state ? 'serialNumber';

-- Inboxes. A signer's inbox is "pending at my role, inside my subtree, oldest first":
-- instances_pending (0001) walks (kind, pending_role, pending_since, id) in order for wide
-- jurisdictions; this partial GiST index finds the few rows of a narrow subtree (a grid, a
-- group) among a million pending applications without walking the others.
CREATE INDEX instances_pending_unit ON instances USING gist (unit_path)
    WHERE pending_role IS NOT NULL;
-- Administrators list everything pending oldest first without naming a role (and overdue
-- rows are the oldest ones), so they walk pending applications in age order.
CREATE INDEX instances_pending_age ON instances (kind, pending_since, id) WHERE pending_role IS NOT NULL;
