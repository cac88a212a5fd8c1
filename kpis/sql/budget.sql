-- Budget KPIs: devolved_budget_share, pb_share. One row per window and group of $by.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped pairs: the quarters
-- of each window a figure is computed over; one window for a plain scope, several for a trend),
-- $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter list means no filter),
-- $by ('council' | 'directorate' | 'neighbourhood' | 'ward').
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
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
