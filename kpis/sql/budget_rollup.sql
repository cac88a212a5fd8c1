-- Budget KPIs for the council or by directorate (budget.sql's figures, no ward or neighbourhood
-- in scope), summed from budget_rollup (kpis/facts.py). One row per window and group of $by.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped: the quarters of each
-- window), $directorates (VARCHAR[]; empty = every directorate), $by ('council' | 'directorate').
-- @include _rollup_groups.sql  (WITH windows, group_keys, groups)
totals AS (  -- exact decimal sums, one conversion to DOUBLE at the end
    SELECT
        win.window_id,
        CASE $by WHEN 'council' THEN 'council' ELSE b.directorate END AS grp,
        sum(b.budget_lines) AS budget_lines,
        CAST(sum(b.total_budget_gbp) AS DOUBLE) AS total_budget_gbp,
        CAST(sum(b.devolved_gbp) AS DOUBLE) AS devolved_gbp,
        coalesce(CAST(sum(b.devolved_gbp) FILTER (WHERE b.mechanism = 'participatory_budgeting')
            AS DOUBLE), 0) AS pb_gbp
    FROM budget_rollup AS b
    JOIN windows AS win ON win.quarter = b.quarter
    WHERE len($directorates) = 0 OR list_contains($directorates, b.directorate)
    GROUP BY ALL
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
