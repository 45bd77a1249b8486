-- Seeds a throwaway database with 1,000,000 travel pass applications for the inbox plans of
-- docs/inbox-query-plans.md. Run on a migrated (every file of schema/), EMPTY database, never on
-- real data:  psql -v ON_ERROR_STOP=1 -d signoff_bench -f ops/bench/seed-pending.sql
--
-- Shape: the real township's 84 grids (12 villages × 7 grids, one group per village), and
-- 1,000,000 applications over three months: 30 % still pending, spread over the five levels;
-- the rest effective. Only the columns the inbox queries read are filled; the documents are stubs.

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
                       policy_version, subject_ref, exclusive_key, pending_level, created_at, updated_at)
SELECT gen_random_uuid(), 'vehicle_pass',
       CASE WHEN pending THEN 'pending' ELSE 'effective' END,
       jsonb_build_object('rounds', jsonb_build_array(jsonb_build_object(
           'number', 1, 'signatures', (SELECT coalesce(jsonb_agg(jsonb_build_object('level', l)), '[]'::jsonb)
                                         FROM generate_series(1, CASE WHEN pending THEN level - 1 ELSE 5 END) AS l)))),
       1, CASE WHEN pending THEN level ELSE 6 END,
       g.path,
       CASE WHEN pending THEN (ARRAY['grid_worker', 'group_leader', 'branch_secretary', 'village_leader', 'chief_leader'])[level] END,
       CASE WHEN pending THEN since END,
       CASE WHEN pending THEN since + (CASE WHEN level <= 3 THEN interval '24 hours' ELSE interval '48 hours' END) END,
       '2020-02-v1', gen_random_uuid(), NULL, CASE WHEN pending THEN level END, since, since
  FROM (SELECT n, n % 10 < 3 AS pending, 1 + (n / 10) % 5 AS level,
               timestamptz '2020-02-10 08:00+08' + (n::bigint * 7776 / 1000) * interval '1 second' AS since, n % 84 AS grid
          FROM generate_series(1, 1000000) AS n) AS s
  JOIN (SELECT path, row_number() OVER (ORDER BY path) - 1 AS grid FROM units WHERE kind = 'grid') AS g USING (grid);

COMMIT;
ANALYZE units;
ANALYZE instances;
