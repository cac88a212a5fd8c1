-- Engagement KPIs: participation_per_1000, early_engagement_share, feedback_rate.
-- One row per window and group of $by, summed from engagement_source
-- (the facts, or their ward roll-up: kpis/facts.py).
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped pairs: the quarters
-- of each window a figure is computed over; one window for a plain scope, several for a trend),
-- $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter list means no filter),
-- $by ('council' | 'directorate' | 'neighbourhood' | 'ward'),
-- $per_population (1000).
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
-- @include _engagement_source.sql  (engagement_source)
population AS (  -- residents behind each group in each window: its own wards, or every ward in
    -- scope, of each quarter's ward set; averaged over the window's quarters in which the group
    -- has wards (one set: exactly that set's population)
    SELECT window_id, grp, avg(population) AS population
    FROM (
        SELECT g.window_id, win.quarter, g.grp, sum(w.population_total) AS population
        FROM groups AS g
        JOIN windows AS win USING (window_id)
        JOIN scope_wards AS w
            ON w.quarter = win.quarter
            AND CASE $by
                WHEN 'ward' THEN w.ward_code = g.grp
                WHEN 'neighbourhood' THEN w.neighbourhood = g.grp
                ELSE TRUE
            END
        GROUP BY g.window_id, win.quarter, g.grp
    )
    GROUP BY window_id, grp
),
scoped AS (  -- engagement facts in scope, once per window, tagged with their group
    SELECT
        win.window_id,
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'directorate' THEN e.directorate
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
        e.activities,
        e.participants,
        e.early_activities,
        e.feedback_activities
    FROM engagement_source AS e
    JOIN windows AS win ON win.quarter = e.quarter
    CROSS JOIN settings
    LEFT JOIN scope_wards AS w ON w.ward_code = e.ward_code AND w.quarter = e.quarter
    WHERE (len($directorates) = 0 OR list_contains($directorates, e.directorate))
      AND (w.ward_code IS NOT NULL OR NOT settings.geographic)  -- a council or directorate figure takes every row, whichever ward it names
      -- implied by the ward join; said here too so that rows of other wards drop at the scan,
      -- before the windows of a trend multiply them
      AND (len($wards) = 0 OR list_contains($wards, e.ward_code))
      AND (len($neighbourhoods) = 0 OR e.ward_code IN (SELECT ward_code FROM scope_wards))
),
totals AS (
    SELECT
        window_id,
        grp,
        sum(activities) AS activities,
        sum(participants) AS participants,
        sum(early_activities) AS early_activities,
        sum(feedback_activities) AS feedback_activities
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
LEFT JOIN population AS p USING (window_id, grp)
ORDER BY g.window_id, g.grp;
