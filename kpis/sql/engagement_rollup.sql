-- Engagement KPIs for the council or by directorate (engagement.sql's figures, no ward or
-- neighbourhood in scope), summed from engagement_rollup (kpis/facts.py). One row per window
-- and group of $by; the population is every ward's, of each quarter's ward set.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped: the quarters of each
-- window), $directorates (VARCHAR[]; empty = every directorate), $by ('council' | 'directorate'),
-- $per_population (1000).
-- @include _rollup_groups.sql  (WITH windows, group_keys, groups)
scope_quarters AS (SELECT DISTINCT quarter FROM windows),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
population AS (  -- the council's residents in each window, behind every group: every ward of
    -- each quarter's set, averaged over the window's quarters that have one (engagement.sql's rule;
    -- summed per quarter before a trend's windows repeat the quarters)
    SELECT win.window_id, avg(q.population) AS population
    FROM windows AS win
    JOIN (
        SELECT quarter, sum(population_total) AS population FROM quarter_wards GROUP BY quarter
    ) AS q USING (quarter)
    GROUP BY win.window_id
),
per_quarter AS (  -- per group and quarter (exact integer sums), before the windows repeat them
    SELECT
        e.quarter,
        CASE $by WHEN 'council' THEN 'council' ELSE e.directorate END AS grp,
        sum(e.activities) AS activities,
        sum(e.participants) AS participants,
        sum(e.activities) FILTER (WHERE e.stage = 'priority_setting' OR e.method = 'codesign')
            AS early_activities,
        sum(e.feedback_activities) AS feedback_activities
    FROM engagement_rollup AS e
    WHERE (len($directorates) = 0 OR list_contains($directorates, e.directorate))
      AND e.quarter IN (SELECT quarter FROM windows)
    GROUP BY ALL
),
totals AS (
    SELECT
        win.window_id,
        e.grp,
        sum(e.activities) AS activities,
        sum(e.participants) AS participants,
        sum(e.early_activities) AS early_activities,
        sum(e.feedback_activities) AS feedback_activities
    FROM per_quarter AS e
    JOIN windows AS win ON win.quarter = e.quarter
    GROUP BY ALL
)
SELECT
    g.window_id,
    g.grp,
    CAST(coalesce(t.activities, 0) AS BIGINT) AS activities,
    CAST(coalesce(t.participants, 0) AS BIGINT) AS participants,
    CAST(p.population AS BIGINT) AS population,
    -- participants over several quarters are divided by the population once; one rounding only
    CAST($per_population * coalesce(t.participants, 0) AS DOUBLE)
        / nullif(CAST(p.population AS DOUBLE), 0) AS participation_per_1000,
    CAST(coalesce(t.early_activities, 0) AS BIGINT) AS early_activities,
    CAST(coalesce(t.feedback_activities, 0) AS BIGINT) AS feedback_activities,
    CAST(coalesce(t.early_activities, 0) AS DOUBLE) / nullif(t.activities, 0) AS early_engagement_share,
    CAST(t.feedback_activities AS DOUBLE) / nullif(t.activities, 0) AS feedback_rate
FROM groups AS g
LEFT JOIN totals AS t USING (window_id, grp)
LEFT JOIN population AS p USING (window_id)
ORDER BY g.window_id, g.grp;
