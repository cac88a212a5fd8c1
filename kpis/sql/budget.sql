-- Budget KPIs: devolved_budget_share, pb_share. One row per window and group of $by.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped pairs: the quarters
-- of each window a figure is computed over; one window for a plain scope, several for a trend),
-- $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter list means no filter),
-- $by ('council' | 'directorate' | 'neighbourhood' | 'ward').
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
scoped AS (  -- budget lines in scope, once per window, tagged with their group
    SELECT
        win.window_id,
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'directorate' THEN b.directorate
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
        CAST(b.total_budget_gbp AS DOUBLE) AS total_gbp,
        CAST(b.devolved_gbp AS DOUBLE) AS devolved_gbp,
        b.mechanism
    FROM budget AS b
    JOIN windows AS win ON win.quarter = b.quarter
    CROSS JOIN settings
    LEFT JOIN scope_wards AS w ON w.ward_code = b.ward_code
    WHERE (len($directorates) = 0 OR list_contains($directorates, b.directorate))
      AND (w.ward_code IS NOT NULL OR (b.ward_code IS NULL AND NOT settings.geographic))
),
totals AS (
    SELECT
        window_id,
        grp,
        count(*) AS budget_lines,
        sum(total_gbp) AS total_budget_gbp,
        sum(devolved_gbp) AS devolved_gbp,
        coalesce(sum(devolved_gbp) FILTER (WHERE mechanism = 'participatory_budgeting'), 0) AS pb_gbp
    FROM scoped
    GROUP BY window_id, grp
)
SELECT
    g.window_id,
    g.grp,
    CAST(coalesce(t.budget_lines, 0) AS BIGINT) AS budget_lines,
    coalesce(t.total_budget_gbp, 0) AS total_budget_gbp,
    coalesce(t.devolved_gbp, 0) AS devolved_gbp,
    coalesce(t.pb_gbp, 0) AS pb_gbp,
    t.devolved_gbp / nullif(t.total_budget_gbp, 0) AS devolved_budget_share,
    t.pb_gbp / nullif(t.total_budget_gbp, 0) AS pb_share
FROM groups AS g
LEFT JOIN totals AS t USING (window_id, grp)
ORDER BY g.window_id, g.grp;
