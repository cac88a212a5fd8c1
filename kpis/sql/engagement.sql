-- Engagement KPIs: participation_per_1000, early_engagement_share, feedback_rate.
-- One row per window and group of $by.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped pairs: the quarters
-- of each window a figure is computed over; one window for a plain scope, several for a trend),
-- $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter list means no filter),
-- $by ('council' | 'directorate' | 'neighbourhood' | 'ward'),
-- $per_population (1000).
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
population AS (  -- residents behind each group: its own wards, or every ward in scope
    SELECT k.grp, sum(w.population_total) AS population
    FROM group_keys AS k
    JOIN scope_wards AS w
        ON CASE $by
            WHEN 'ward' THEN w.ward_code = k.grp
            WHEN 'neighbourhood' THEN w.neighbourhood = k.grp
            ELSE TRUE
        END
    GROUP BY k.grp
),
scoped AS (  -- activities in scope, once per window, tagged with their group
    SELECT
        win.window_id,
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'directorate' THEN e.directorate
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
        e.participants_total,
        e.stage = 'priority_setting' OR e.method = 'codesign' AS is_early,
        e.feedback_published
    FROM engagement AS e
    JOIN windows AS win ON win.quarter = e.quarter
    CROSS JOIN settings
    LEFT JOIN scope_wards AS w ON w.ward_code = e.ward_code
    WHERE (len($directorates) = 0 OR list_contains($directorates, e.directorate))
      AND (w.ward_code IS NOT NULL OR (e.ward_code IS NULL AND NOT settings.geographic))
),
totals AS (
    SELECT
        window_id,
        grp,
        count(*) AS activities,
        sum(participants_total) AS participants,
        count(*) FILTER (WHERE is_early) AS early_activities,
        count(*) FILTER (WHERE feedback_published) AS feedback_activities
    FROM scoped
    GROUP BY window_id, grp
)
SELECT
    g.window_id,
    g.grp,
    CAST(coalesce(t.activities, 0) AS BIGINT) AS activities,
    CAST(coalesce(t.participants, 0) AS BIGINT) AS participants,
    CAST(p.population AS BIGINT) AS population,
    -- participants over several quarters are divided by the population once; one rounding only
    -- (exact integer product, then the division), so equal rates compare equal
    CAST($per_population * coalesce(t.participants, 0) AS DOUBLE)
        / nullif(CAST(p.population AS DOUBLE), 0) AS participation_per_1000,
    CAST(coalesce(t.early_activities, 0) AS BIGINT) AS early_activities,
    CAST(coalesce(t.feedback_activities, 0) AS BIGINT) AS feedback_activities,
    CAST(t.early_activities AS DOUBLE) / nullif(t.activities, 0) AS early_engagement_share,
    CAST(t.feedback_activities AS DOUBLE) / nullif(t.activities, 0) AS feedback_rate
FROM groups AS g
LEFT JOIN totals AS t USING (window_id, grp)
LEFT JOIN population AS p USING (grp)
ORDER BY g.window_id, g.grp;
