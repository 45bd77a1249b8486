-- Seeds a throwaway database with 1,000,000 travel pass applications for the inbox plans of
-- docs/inbox-query-plans.md. Run on a migrated (every file of schema/), EMPTY database, never on
-- real data:  psql -v ON_ERROR_STOP=1 -d signoff_bench -f ops/bench/seed-pending.sql
--
-- Shape: the real township's 84 grids (12 villages × 7 grids, one group per village), and
-- 1,000,000 applications over three months: 30 % still pending, spread over the five levels;
-- the rest effective. The pending rows carry whole documents in the stored form, so the page can
-- be loaded over HTTP; the effective rows' documents are stubs (no page here decodes them).

-- The number of applications: psql -v applications=10000 …; 1,000,000 when not given. The
-- shape (90 days, 30 % pending, 84 grids) is the same at every size.
\if :{?applications}
\else
\set applications 1000000
\endif

BEGIN;

INSERT INTO units (id, parent_id, kind, code, name, path)
VALUES ('00000000-0000-0000-0000-00000000b000', NULL, 'township', 'twp', '联合苗族乡', 'twp');

INSERT INTO units (id, parent_id, kind, code, name, path)
SELECT ('00000000-0000-0000-0001-' || lpad(to_hex(v), 12, '0'))::uuid, '00000000-0000-0000-0000-00000000b000',
       'village', 'v' || lpad(v::text, 2, '0'), '村' || v, ('twp.v' || lpad(v::text, 2, '0'))::ltree
  FROM generate_series(1, 12) AS v;

INSERT INTO units (id, parent_id, kind, code, name, path)
SELECT ('00000000-0000-0000-0002-' || lpad(to_hex(v), 12, '0'))::uuid, ('00000000-0000-0000-0001-' || lpad(to_hex(v), 12, '0'))::uuid,
       'group', 'v' || lpad(v::text, 2, '0') || 'g1', '村' || v || '1组', ('twp.v' || lpad(v::text, 2, '0') || '.v' || lpad(v::text, 2, '0') || 'g1')::ltree
  FROM generate_series(1, 12) AS v;

INSERT INTO units (id, parent_id, kind, code, name, path)
SELECT ('00000000-0000-0000-0003-' || lpad(to_hex(v * 100 + w), 12, '0'))::uuid, ('00000000-0000-0000-0002-' || lpad(to_hex(v), 12, '0'))::uuid,
       'grid', 'v' || lpad(v::text, 2, '0') || 'g1w' || w, '网格' || v || '-' || w,
       ('twp.v' || lpad(v::text, 2, '0') || '.v' || lpad(v::text, 2, '0') || 'g1.v' || lpad(v::text, 2, '0') || 'g1w' || w)::ltree
  FROM generate_series(1, 12) AS v, generate_series(1, 7) AS w;

-- n → grid (n % 84), applied at a time spread over 90 days, pending for 30 % of rows.
INSERT INTO instances (id, kind, state_name, state, schema_version, version, unit_path, pending_role, pending_since, due_at,
                       policy_version, subject_ref, exclusive_key, pending_level, label, created_at, updated_at)
SELECT gen_random_uuid(), 'vehicle_pass',
       CASE WHEN pending THEN 'pending' ELSE 'effective' END,
       CASE WHEN NOT pending THEN
           jsonb_build_object('rounds', jsonb_build_array(jsonb_build_object(
               'number', 1, 'signatures', (SELECT jsonb_agg(jsonb_build_object('level', l)) FROM generate_series(1, 5) AS l))))
       ELSE jsonb_build_object(
           'state', 'pending', 'application_id', gen_random_uuid(), 'vehicle_id', gen_random_uuid(),
           'pledge_id', gen_random_uuid(), 'plate', '川Q' || lpad((n % 100000)::text, 5, '0'),
           'grid_path', g.path::text, 'policy_version', '2020-02-v1', 'pass_validity_days', 30,
           'applied_at', to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'applied_by', '60000000-0000-0000-0000-000000000001',
           'chain', '[{"level": 1, "limit_hours": 24, "role": "grid_worker"}, {"level": 2, "limit_hours": 24, "role": "group_leader"},
                      {"level": 3, "limit_hours": 24, "role": "branch_secretary"}, {"level": 4, "limit_hours": 48, "role": "village_leader"},
                      {"level": 5, "limit_hours": 48, "role": "chief_leader"}]'::jsonb,
           'rounds', jsonb_build_array(jsonb_build_object(
               'number', 1, 'started_at', to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'started_by', '60000000-0000-0000-0000-000000000001', 'started_by_name', '网格员',
               'signatures', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                  'level', l, 'at', to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                  'name', '签字人 ' || l, 'role', (ARRAY['grid_worker', 'group_leader', 'branch_secretary', 'village_leader'])[l],
                                  'unit_id', '00000000-0000-0000-0003-000000000065', 'unit_path', g.path::text,
                                  'user_id', '60000000-0000-0000-0000-00000000000' || l) ORDER BY l), '[]'::jsonb)
                                FROM generate_series(1, level - 1) AS l))))
       END,
       1, CASE WHEN pending THEN level ELSE 6 END,
       g.path,
       CASE WHEN pending THEN (ARRAY['grid_worker', 'group_leader', 'branch_secretary', 'village_leader', 'chief_leader'])[level] END,
       CASE WHEN pending THEN since END,
       CASE WHEN pending THEN since + (CASE WHEN level <= 3 THEN interval '24 hours' ELSE interval '48 hours' END) END,
       '2020-02-v1', gen_random_uuid(), NULL, CASE WHEN pending THEN level END,
       CASE WHEN pending THEN '川Q' || lpad((n % 100000)::text, 5, '0') END, since, since
  FROM (SELECT n, n % 10 < 3 AS pending, 1 + (n / 10) % 5 AS level,
               timestamptz '2020-02-10 08:00+08' + (n::bigint * 7776000 / :applications) * interval '1 second' AS since, n % 84 AS grid
          FROM generate_series(1, :applications) AS n) AS s
  JOIN (SELECT path, row_number() OVER (ORDER BY path) - 1 AS grid FROM units WHERE kind = 'grid') AS g USING (grid);

COMMIT;
-- The inserts appended one pending delta each (schema/0013); fold them into the kept counts as
-- the service does every few seconds, with 2020-05-10 (day 18392) as today.
SELECT pending_tally_fold(18392);
ANALYZE units;
ANALYZE instances;
ANALYZE pending_tally;
