-- Shared opening of the roll-up queries (budget_rollup, engagement_rollup, equality_rollup,
-- partnerships_rollup): the council and directorate figures, read from the directorate-level
-- roll-up of kpis/facts.py instead of the ward-level facts. The windows of quarters and one
-- output row per window and group of $by ('council' or 'directorate'); no ward is in scope.
-- Not a query on its own: included where a file says `-- @include _rollup_groups.sql`.
WITH
windows AS (  -- (window_id, quarter): a row counts once in every window holding its quarter
    SELECT unnest($window_ids) AS window_id, unnest($window_quarters) AS quarter
),
group_keys AS (  -- the council, or every directorate of the reference data, data or not
    SELECT 'council' AS grp WHERE $by = 'council'
    UNION ALL
    SELECT directorate FROM directorates
    WHERE $by = 'directorate' AND (len($directorates) = 0 OR list_contains($directorates, directorate))
),
groups AS (  -- one output row per window and group
    SELECT w.window_id, k.grp
    FROM (SELECT DISTINCT window_id FROM windows) AS w
    CROSS JOIN group_keys AS k
),
