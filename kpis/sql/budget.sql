-- Budget KPIs: devolved_budget_share, pb_share. One row per window and group of $by, summed
-- from budget_source (the facts, or their ward roll-up: kpis/facts.py).
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped pairs: the quarters
-- of each window a figure is computed over; one window for a plain scope, several for a trend),
-- $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter list means no filter),
-- $by ('council' | 'directorate' | 'neighbourhood' | 'ward').
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
-- @include _budget_source.sql  (budget_source)
scoped AS (  -- budget facts in scope, once per window, tagged with their group
    SELECT
        win.window_id,
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'directorate' THEN b.directorate
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
        b.budget_lines,
        b.total_budget_gbp,
        b.devolved_gbp,
        b.pb_gbp
    FROM budget_source AS b
    JOIN windows AS win ON win.quarter = b.quarter
    CROSS JOIN settings
    LEFT JOIN scope_wards AS w ON w.ward_code = b.ward_code AND w.quarter = b.quarter
    WHERE (len($directorates) = 0 OR list_contains($directorates, b.directorate))
      AND (w.ward_code IS NOT NULL OR NOT settings.geographic)  -- a council or directorate figure takes every row, whichever ward it names
      -- implied by the ward join; said here too so that rows of other wards drop at the scan,
      -- before the windows of a trend multiply them
      AND (len($wards) = 0 OR list_contains($wards, b.ward_code))
      AND (len($neighbourhoods) = 0 OR b.ward_code IN (SELECT ward_code FROM scope_wards))
),
totals AS (  -- exact decimal sums, one conversion to DOUBLE at the end
    SELECT
        window_id,
        grp,
        sum(budget_lines) AS budget_lines,
        CAST(sum(total_budget_gbp) AS DOUBLE) AS total_budget_gbp,
        CAST(sum(devolved_gbp) AS DOUBLE) AS devolved_gbp,
        coalesce(CAST(sum(pb_gbp) AS DOUBLE), 0) AS pb_gbp
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
