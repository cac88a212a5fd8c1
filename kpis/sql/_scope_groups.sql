-- Shared opening of the KPI family queries (budget, engagement, equality, partnerships): the
-- windows of quarters, the wards in the geographic scope, and one output row per window and group
-- of $by. Not a query on its own: `kpis.engine.load_sql` puts it where a family file says
-- `-- @include _scope_groups.sql`, and the family's own CTEs follow it.
WITH
windows AS (  -- (window_id, quarter): a row counts once in every window holding its quarter
    SELECT unnest($window_ids) AS window_id, unnest($window_quarters) AS quarter
),
scope_wards AS (  -- wards in the geographic scope
    SELECT ward_code, neighbourhood, population_total
    FROM wards
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
settings AS (  -- borough-wide rows drop out of any ward or neighbourhood figure
    SELECT len($neighbourhoods) + len($wards) > 0 OR $by IN ('neighbourhood', 'ward') AS geographic
),
group_keys AS (  -- every group of $by in the reference data, data or not
    SELECT 'council' AS grp WHERE $by = 'council'
    UNION ALL
    SELECT directorate FROM directorates
    WHERE $by = 'directorate' AND (len($directorates) = 0 OR list_contains($directorates, directorate))
    UNION ALL
    SELECT DISTINCT neighbourhood FROM scope_wards WHERE $by = 'neighbourhood'
    UNION ALL
    SELECT ward_code FROM scope_wards WHERE $by = 'ward'
),
groups AS (  -- one output row per window and group
    SELECT w.window_id, k.grp
    FROM (SELECT DISTINCT window_id FROM windows) AS w
    CROSS JOIN group_keys AS k
),
