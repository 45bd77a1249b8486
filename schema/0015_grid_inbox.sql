-- A grid worker's inbox in age order at any size (issue 8, docs/performance.md).
--
-- A grid has no units below it, so a grid worker's jurisdiction is the rows whose unit_path is
-- the grid itself: with this index their pending rows of one role come in age order, and a
-- page reads only its own rows. Before, the inbox walked the role's pending rows of the whole
-- township (instances_pending) and kept one row in 84: at 10^6 applications, about 4,200 rows
-- per page of 50, and its p99 grew 2.4× from 10^4 to 10^6.
CREATE INDEX instances_pending_grid ON instances (kind, pending_role, unit_path, pending_since, id)
    WHERE pending_role IS NOT NULL;
