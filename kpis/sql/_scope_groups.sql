-- Shared opening of the KPI family queries (budget, engagement, equality, partnerships): the
-- windows of quarters, the wards in the geographic scope, and one output row per window and group
-- of $by. Not a query on its own: `kpis.engine.load_sql` puts it where a family file says
-- `-- @include _scope_groups.sql`, and the family's own CTEs follow it.
-- Wards are those of each quarter's ward set (docs/ward-vintages.md): a row joins its ward on
-- (quarter, ward_code), so a quarter's figures use that quarter's wards and populations.
WITH
windows AS (  -- (window_id, quarter): a row counts once in every window holding its quarter
    SELECT unnest($window_ids) AS window_id, unnest($window_quarters) AS quarter
),
scope_quarters AS (SELECT DISTINCT quarter FROM windows),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
scope_wards AS (  -- wards in the geographic scope, per quarter
    SELECT quarter, ward_code, neighbourhood, population_total
    FROM quarter_wards
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
    SELECT DISTINCT ward_code FROM scope_wards WHERE $by = 'ward'
),
groups AS (  -- one output row per window and group; a ward or neighbourhood only in the windows
    -- holding a quarter whose ward set has it (a replaced ward is not a group after it went)
    SELECT w.window_id, k.grp
    FROM (SELECT DISTINCT window_id FROM windows) AS w
    CROSS JOIN group_keys AS k
    WHERE $by NOT IN ('neighbourhood', 'ward')
    UNION ALL
    SELECT DISTINCT win.window_id, CASE $by WHEN 'ward' THEN s.ward_code ELSE s.neighbourhood END
    FROM windows AS win
    JOIN scope_wards AS s USING (quarter)
    WHERE $by IN ('neighbourhood', 'ward')
),
