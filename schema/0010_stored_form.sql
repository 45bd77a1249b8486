-- The stored form is a contract.
--
-- 1. Every field that SQL reads becomes a projection column, written by the one transition
--    path from the machine's `projection`; no query and no index reads the state document.
-- 2. The state documents take their frozen, explicit snake_case field names (form 1, as the
--    machines' CodingKeys and the golden fixtures in the core tests give them), and every row
--    records the form it is stored in.

ALTER TABLE instances
    ADD COLUMN schema_version smallint NOT NULL DEFAULT 1,
    ADD COLUMN pending_level  smallint,
    ADD COLUMN serial_number  text,
    ADD COLUMN category       text,
    ADD COLUMN headcount      integer,
    ADD COLUMN member_ids     uuid[],
    ADD COLUMN poor_members   integer;

-- Backfill from the documents as they were written before this migration (camelCase names).
UPDATE instances
   SET pending_level = jsonb_array_length(state -> 'rounds' -> -1 -> 'signatures') + 1
 WHERE kind = 'vehicle_pass' AND pending_role IS NOT NULL;

UPDATE instances SET serial_number = state ->> 'passNumber'
 WHERE kind = 'vehicle_pass' AND state ? 'passNumber';
UPDATE instances SET serial_number = state ->> 'serialNumber'
 WHERE kind = 'agricultural_pass' AND state ? 'serialNumber';
UPDATE instances SET serial_number = state ->> 'certificateNumber', category = state ->> 'scope'
 WHERE kind = 'certificate_request';
UPDATE instances SET category = state ->> 'placement'
 WHERE kind = 'returnee_isolation';

UPDATE instances
   SET headcount = (state ->> 'boarded')::integer,
       member_ids = ARRAY(SELECT (w ->> 'personID')::uuid FROM jsonb_array_elements(state -> 'workers') AS w),
       poor_members = (SELECT count(*) FROM jsonb_array_elements(state -> 'workers') AS w WHERE (w ->> 'poor')::boolean)
 WHERE kind = 'transport_trip';

-- camelCase → snake_case in every object key, at every depth (householdID → household_id).
-- The documents hold no data-valued keys, so every key is a field name.
CREATE FUNCTION pg_temp.snake_keys(doc jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE jsonb_typeof(doc)
        WHEN 'object' THEN coalesce(
            (SELECT jsonb_object_agg(lower(regexp_replace(key, '([a-z0-9])([A-Z])', '\1_\2', 'g')), pg_temp.snake_keys(value))
               FROM jsonb_each(doc)),
            '{}'::jsonb)
        WHEN 'array' THEN coalesce(
            (SELECT jsonb_agg(pg_temp.snake_keys(value) ORDER BY ordinality)
               FROM jsonb_array_elements(doc) WITH ORDINALITY),
            '[]'::jsonb)
        ELSE doc
    END
$$;

UPDATE instances SET state = pg_temp.snake_keys(state), schema_version = 1;

-- Writers state the form they write.
ALTER TABLE instances ALTER COLUMN schema_version DROP DEFAULT;

-- The old indexes read the document; the new ones read the columns.
DROP INDEX instances_vehicle_pass_number;
DROP INDEX instances_agricultural_serial;
DROP INDEX instances_certificate_number;
DROP INDEX instances_trip_workers;

-- A pass number, an agricultural pass serial or a certificate number is unique within its kind.
CREATE UNIQUE INDEX instances_serial_number ON instances (kind, serial_number) WHERE serial_number IS NOT NULL;

-- "Which trips is this worker on?": roster containment.
CREATE INDEX instances_members ON instances USING gin (member_ids) WHERE member_ids IS NOT NULL;
