-- Engagement equality: per window, group of $by, dimension and demographic group the
-- participants, p_g, q_g, r_g and flags, with EEI_d per dimension and the
-- engagement_equality_index.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped pairs: the quarters
-- of each window a figure is computed over; one window for a plain scope, several for a trend),
-- $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter list means no filter),
-- $by ('council' | 'directorate' | 'neighbourhood' | 'ward'),
-- $under_represented_ratio (0.8), $low_base_min_known (30).
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
dims(dimension, group_name, group_order) AS (  -- etl.contract.DIMENSIONS (a test keeps them equal)
    VALUES
        ('age', 'age_16_24', 1), ('age', 'age_25_44', 2), ('age', 'age_45_64', 3),
        ('age', 'age_65_plus', 4),
        ('sex', 'female', 5), ('sex', 'male', 6),
        ('ethnicity', 'ethnicity_white', 7), ('ethnicity', 'ethnicity_asian', 8),
        ('ethnicity', 'ethnicity_black', 9), ('ethnicity', 'ethnicity_mixed', 10),
        ('ethnicity', 'ethnicity_other', 11),
        ('disability', 'disabled', 12), ('disability', 'not_disabled', 13)
),
ward_population AS (  -- every ward of the council: population of each demographic group
    SELECT u.ward_code, d.dimension, d.group_name, CAST(u.pop AS DOUBLE) AS pop
    FROM (
        UNPIVOT (SELECT ward_code, COLUMNS('^pop_') FROM wards)
        ON COLUMNS('^pop_') INTO NAME pop_column VALUE pop
    ) AS u
    JOIN dims AS d ON u.pop_column = 'pop_' || d.group_name
),
ward_share AS (  -- share_g in a ward: pop_g / sum of pop_h over the dimension's groups
    SELECT
        ward_code, group_name,
        pop / nullif(sum(pop) OVER (PARTITION BY ward_code, dimension), 0) AS share
    FROM ward_population
),
council_share AS (  -- the same over all wards of the council, for borough-wide activities
    SELECT
        group_name,
        sum(pop) / nullif(sum(sum(pop)) OVER (PARTITION BY dimension), 0) AS share
    FROM ward_population
    GROUP BY dimension, group_name
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
        e.submission_id, e.line_no, e.ward_code,
        e.age_16_24, e.age_25_44, e.age_45_64, e.age_65_plus,
        e.female, e.male,
        e.ethnicity_white, e.ethnicity_asian, e.ethnicity_black, e.ethnicity_mixed,
        e.ethnicity_other,
        e.disabled, e.not_disabled
    FROM engagement AS e
    JOIN windows AS win ON win.quarter = e.quarter
    CROSS JOIN settings
    LEFT JOIN scope_wards AS w ON w.ward_code = e.ward_code
    WHERE (len($directorates) = 0 OR list_contains($directorates, e.directorate))
      AND (w.ward_code IS NOT NULL OR (e.ward_code IS NULL AND NOT settings.geographic))
),
activity_group AS (  -- one row per activity and demographic group
    SELECT u.window_id, u.grp, u.submission_id, u.line_no, d.dimension, u.group_name,
        CAST(u.n AS DOUBLE) AS n,
        -- known_a: the activity's participants with a known group in this dimension
        sum(CAST(u.n AS DOUBLE)) OVER (
            PARTITION BY u.window_id, u.grp, u.submission_id, u.line_no, d.dimension
        ) AS known_a,
        CASE WHEN u.ward_code IS NULL THEN cs.share ELSE ws.share END AS share
    FROM (
        UNPIVOT scoped
        ON COLUMNS(* EXCLUDE (window_id, grp, submission_id, line_no, ward_code))
        INTO NAME group_name VALUE n
    ) AS u
    JOIN dims AS d USING (group_name)
    LEFT JOIN ward_share AS ws ON ws.ward_code = u.ward_code AND ws.group_name = u.group_name
    LEFT JOIN council_share AS cs ON cs.group_name = u.group_name
),
group_totals AS (  -- an activity whose ward has no population for the dimension is left out
    SELECT window_id, grp, dimension, group_name,
        sum(n) AS participants,
        sum(known_a) AS known,
        -- each activity's expected count is rounded once to 18 decimals and summed exactly as a
        -- DECIMAL, so the total does not depend on the order parallel threads add it up in
        sum(CAST(known_a * share AS DECIMAL(38, 18))) AS expected
    FROM activity_group
    WHERE share IS NOT NULL
    GROUP BY window_id, grp, dimension, group_name
),
shares AS (  -- every group of every dimension for every window and output group
    SELECT
        g.window_id, g.grp, d.dimension, d.group_name, d.group_order,
        coalesce(t.participants, 0) AS participants,
        coalesce(t.known, 0) AS known,
        t.participants / nullif(t.known, 0) AS p_share,
        t.expected / nullif(t.known, 0) AS q_share
    FROM groups AS g
    CROSS JOIN dims AS d
    LEFT JOIN group_totals AS t USING (window_id, grp, dimension, group_name)
),
dimension_index AS (  -- EEI_d, defined when the dimension has a known participant
    SELECT window_id, grp, dimension,
        -- added up in the groups' fixed order (a float sum's last digit depends on its order)
        CASE WHEN max(known) > 0
            THEN 1 - 0.5 * list_sum(list(abs(p_share - q_share) ORDER BY group_order)) END AS eei
    FROM shares
    GROUP BY window_id, grp, dimension
),
overall AS (  -- mean of the defined EEI_d (avg skips the undefined ones)
    SELECT window_id, grp,
        list_avg(list(eei ORDER BY dimension)) AS engagement_equality_index
    FROM dimension_index
    GROUP BY window_id, grp
)
SELECT
    s.window_id,
    s.grp,
    s.dimension,
    s.group_name,
    CAST(s.participants AS BIGINT) AS participants,
    CAST(s.known AS BIGINT) AS known,
    s.p_share,
    s.q_share,
    s.p_share / nullif(s.q_share, 0) AS ratio,
    coalesce(s.p_share / nullif(s.q_share, 0) < $under_represented_ratio, FALSE) AS under_represented,
    s.known < $low_base_min_known AS low_base,
    di.eei,
    o.engagement_equality_index
FROM shares AS s
JOIN dimension_index AS di USING (window_id, grp, dimension)
JOIN overall AS o USING (window_id, grp)
ORDER BY s.window_id, s.grp, s.group_order;
