-- The ward-level CTEs of the equality queries (equality.sql, equality_index.sql), up to
-- `wide_totals`; _equality_index.sql follows. Not a query on its own.
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
-- @include _engagement_source.sql  (engagement_source)
ward_population AS NOT MATERIALIZED (  -- every ward of each quarter's set, with each
    -- dimension's population (NULL if one is unknown); not materialized: each use below filters it
    SELECT
        *,
        pop_age_16_24 + pop_age_25_44 + pop_age_45_64 + pop_age_65_plus AS pop_age,
        pop_female + pop_male AS pop_sex,
        pop_ethnicity_white + pop_ethnicity_asian + pop_ethnicity_black + pop_ethnicity_mixed + pop_ethnicity_other AS pop_ethnicity,
        pop_disabled + pop_not_disabled AS pop_disability
    FROM quarter_wards
),
ward_share AS (  -- share_g in each ward: pop_g / sum of pop_h over the dimension's groups
    -- (NULL where the dimension's population is unknown or 0: the ward is left out of it)
    SELECT quarter, ward_code,
        CAST(pop_age_16_24 AS DOUBLE) / nullif(pop_age, 0) AS age_16_24,
        CAST(pop_age_25_44 AS DOUBLE) / nullif(pop_age, 0) AS age_25_44,
        CAST(pop_age_45_64 AS DOUBLE) / nullif(pop_age, 0) AS age_45_64,
        CAST(pop_age_65_plus AS DOUBLE) / nullif(pop_age, 0) AS age_65_plus,
        CAST(pop_female AS DOUBLE) / nullif(pop_sex, 0) AS female,
        CAST(pop_male AS DOUBLE) / nullif(pop_sex, 0) AS male,
        CAST(pop_ethnicity_white AS DOUBLE) / nullif(pop_ethnicity, 0) AS ethnicity_white,
        CAST(pop_ethnicity_asian AS DOUBLE) / nullif(pop_ethnicity, 0) AS ethnicity_asian,
        CAST(pop_ethnicity_black AS DOUBLE) / nullif(pop_ethnicity, 0) AS ethnicity_black,
        CAST(pop_ethnicity_mixed AS DOUBLE) / nullif(pop_ethnicity, 0) AS ethnicity_mixed,
        CAST(pop_ethnicity_other AS DOUBLE) / nullif(pop_ethnicity, 0) AS ethnicity_other,
        CAST(pop_disabled AS DOUBLE) / nullif(pop_disability, 0) AS disabled,
        CAST(pop_not_disabled AS DOUBLE) / nullif(pop_disability, 0) AS not_disabled
    FROM ward_population
    -- the wards in the geographic scope (scope_wards' filter): a row on any other drops out
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
council_share AS (  -- the same over the council's wards whose population of the dimension is
    -- known, per quarter (over that quarter's set)
    SELECT
        quarter,
        CAST(sum(pop_age_16_24) FILTER (WHERE pop_age IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_age), 0) AS age_16_24,
        CAST(sum(pop_age_25_44) FILTER (WHERE pop_age IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_age), 0) AS age_25_44,
        CAST(sum(pop_age_45_64) FILTER (WHERE pop_age IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_age), 0) AS age_45_64,
        CAST(sum(pop_age_65_plus) FILTER (WHERE pop_age IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_age), 0) AS age_65_plus,
        CAST(sum(pop_female) FILTER (WHERE pop_sex IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_sex), 0) AS female,
        CAST(sum(pop_male) FILTER (WHERE pop_sex IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_sex), 0) AS male,
        CAST(sum(pop_ethnicity_white) FILTER (WHERE pop_ethnicity IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_ethnicity), 0) AS ethnicity_white,
        CAST(sum(pop_ethnicity_asian) FILTER (WHERE pop_ethnicity IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_ethnicity), 0) AS ethnicity_asian,
        CAST(sum(pop_ethnicity_black) FILTER (WHERE pop_ethnicity IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_ethnicity), 0) AS ethnicity_black,
        CAST(sum(pop_ethnicity_mixed) FILTER (WHERE pop_ethnicity IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_ethnicity), 0) AS ethnicity_mixed,
        CAST(sum(pop_ethnicity_other) FILTER (WHERE pop_ethnicity IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_ethnicity), 0) AS ethnicity_other,
        CAST(sum(pop_disabled) FILTER (WHERE pop_disability IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_disability), 0) AS disabled,
        CAST(sum(pop_not_disabled) FILTER (WHERE pop_disability IS NOT NULL) AS DOUBLE)
            / nullif(sum(pop_disability), 0) AS not_disabled
    FROM ward_population
    CROSS JOIN settings
    -- only a council or directorate figure has rows that take it (borough-wide, or on a ward
    -- not in the quarter's set): a ward or neighbourhood figure drops them
    WHERE NOT settings.geographic
    GROUP BY quarter
),
scoped AS (  -- participants per group, summed per window, output group and ward
    SELECT
        win.window_id,
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'directorate' THEN e.directorate
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
        e.quarter,
        e.ward_code,
        sum(e.age_16_24) AS age_16_24,
        sum(e.age_25_44) AS age_25_44,
        sum(e.age_45_64) AS age_45_64,
        sum(e.age_65_plus) AS age_65_plus,
        sum(e.female) AS female,
        sum(e.male) AS male,
        sum(e.ethnicity_white) AS ethnicity_white,
        sum(e.ethnicity_asian) AS ethnicity_asian,
        sum(e.ethnicity_black) AS ethnicity_black,
        sum(e.ethnicity_mixed) AS ethnicity_mixed,
        sum(e.ethnicity_other) AS ethnicity_other,
        sum(e.disabled) AS disabled,
        sum(e.not_disabled) AS not_disabled
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
    GROUP BY ALL
),
with_share AS (  -- known_a summed over the ward's activities (K_d), and the ward's shares
    -- (a borough-wide activity, or one on a ward not in its quarter's set, takes the council's)
    SELECT s.window_id, s.grp,
        CAST(s.age_16_24 + s.age_25_44 + s.age_45_64 + s.age_65_plus AS DOUBLE) AS known_age,
        CAST(s.female + s.male AS DOUBLE) AS known_sex,
        CAST(s.ethnicity_white + s.ethnicity_asian + s.ethnicity_black + s.ethnicity_mixed + s.ethnicity_other AS DOUBLE) AS known_ethnicity,
        CAST(s.disabled + s.not_disabled AS DOUBLE) AS known_disability,
        CAST(s.age_16_24 AS DOUBLE) AS n_age_16_24, CASE WHEN ws.ward_code IS NULL THEN cs.age_16_24 ELSE ws.age_16_24 END AS s_age_16_24,
        CAST(s.age_25_44 AS DOUBLE) AS n_age_25_44, CASE WHEN ws.ward_code IS NULL THEN cs.age_25_44 ELSE ws.age_25_44 END AS s_age_25_44,
        CAST(s.age_45_64 AS DOUBLE) AS n_age_45_64, CASE WHEN ws.ward_code IS NULL THEN cs.age_45_64 ELSE ws.age_45_64 END AS s_age_45_64,
        CAST(s.age_65_plus AS DOUBLE) AS n_age_65_plus, CASE WHEN ws.ward_code IS NULL THEN cs.age_65_plus ELSE ws.age_65_plus END AS s_age_65_plus,
        CAST(s.female AS DOUBLE) AS n_female, CASE WHEN ws.ward_code IS NULL THEN cs.female ELSE ws.female END AS s_female,
        CAST(s.male AS DOUBLE) AS n_male, CASE WHEN ws.ward_code IS NULL THEN cs.male ELSE ws.male END AS s_male,
        CAST(s.ethnicity_white AS DOUBLE) AS n_ethnicity_white, CASE WHEN ws.ward_code IS NULL THEN cs.ethnicity_white ELSE ws.ethnicity_white END AS s_ethnicity_white,
        CAST(s.ethnicity_asian AS DOUBLE) AS n_ethnicity_asian, CASE WHEN ws.ward_code IS NULL THEN cs.ethnicity_asian ELSE ws.ethnicity_asian END AS s_ethnicity_asian,
        CAST(s.ethnicity_black AS DOUBLE) AS n_ethnicity_black, CASE WHEN ws.ward_code IS NULL THEN cs.ethnicity_black ELSE ws.ethnicity_black END AS s_ethnicity_black,
        CAST(s.ethnicity_mixed AS DOUBLE) AS n_ethnicity_mixed, CASE WHEN ws.ward_code IS NULL THEN cs.ethnicity_mixed ELSE ws.ethnicity_mixed END AS s_ethnicity_mixed,
        CAST(s.ethnicity_other AS DOUBLE) AS n_ethnicity_other, CASE WHEN ws.ward_code IS NULL THEN cs.ethnicity_other ELSE ws.ethnicity_other END AS s_ethnicity_other,
        CAST(s.disabled AS DOUBLE) AS n_disabled, CASE WHEN ws.ward_code IS NULL THEN cs.disabled ELSE ws.disabled END AS s_disabled,
        CAST(s.not_disabled AS DOUBLE) AS n_not_disabled, CASE WHEN ws.ward_code IS NULL THEN cs.not_disabled ELSE ws.not_disabled END AS s_not_disabled
    FROM scoped AS s
    LEFT JOIN council_share AS cs ON cs.quarter = s.quarter
    LEFT JOIN ward_share AS ws ON ws.ward_code = s.ward_code AND ws.quarter = s.quarter
),
wide_totals AS (  -- per window and output group: participants, known and expected per group,
    -- over the activities whose ward has a population for the group's dimension; each ward's
    -- expected count is rounded once to 12 decimals and summed exactly as a DECIMAL, so the
    -- total does not depend on the order parallel threads add it up in (12, not 18: a sum below
    -- 2^63 units, as a ward's is, converts to DOUBLE in 10 ns, one above in 380 ns: 70 ms of a
    -- national ward table at 18 decimals)
    SELECT window_id, grp,
        sum(n_age_16_24) FILTER (WHERE s_age_16_24 IS NOT NULL) AS p_age_16_24,
        sum(known_age) FILTER (WHERE s_age_16_24 IS NOT NULL) AS k_age_16_24,
        sum(CAST(known_age * s_age_16_24 AS DECIMAL(38, 12))) AS e_age_16_24,
        sum(n_age_16_24) FILTER (WHERE s_age_16_24 IS NULL) AS l_age_16_24,
        sum(n_age_25_44) FILTER (WHERE s_age_25_44 IS NOT NULL) AS p_age_25_44,
        sum(known_age) FILTER (WHERE s_age_25_44 IS NOT NULL) AS k_age_25_44,
        sum(CAST(known_age * s_age_25_44 AS DECIMAL(38, 12))) AS e_age_25_44,
        sum(n_age_25_44) FILTER (WHERE s_age_25_44 IS NULL) AS l_age_25_44,
        sum(n_age_45_64) FILTER (WHERE s_age_45_64 IS NOT NULL) AS p_age_45_64,
        sum(known_age) FILTER (WHERE s_age_45_64 IS NOT NULL) AS k_age_45_64,
        sum(CAST(known_age * s_age_45_64 AS DECIMAL(38, 12))) AS e_age_45_64,
        sum(n_age_45_64) FILTER (WHERE s_age_45_64 IS NULL) AS l_age_45_64,
        sum(n_age_65_plus) FILTER (WHERE s_age_65_plus IS NOT NULL) AS p_age_65_plus,
        sum(known_age) FILTER (WHERE s_age_65_plus IS NOT NULL) AS k_age_65_plus,
        sum(CAST(known_age * s_age_65_plus AS DECIMAL(38, 12))) AS e_age_65_plus,
        sum(n_age_65_plus) FILTER (WHERE s_age_65_plus IS NULL) AS l_age_65_plus,
        sum(n_female) FILTER (WHERE s_female IS NOT NULL) AS p_female,
        sum(known_sex) FILTER (WHERE s_female IS NOT NULL) AS k_female,
        sum(CAST(known_sex * s_female AS DECIMAL(38, 12))) AS e_female,
        sum(n_female) FILTER (WHERE s_female IS NULL) AS l_female,
        sum(n_male) FILTER (WHERE s_male IS NOT NULL) AS p_male,
        sum(known_sex) FILTER (WHERE s_male IS NOT NULL) AS k_male,
        sum(CAST(known_sex * s_male AS DECIMAL(38, 12))) AS e_male,
        sum(n_male) FILTER (WHERE s_male IS NULL) AS l_male,
        sum(n_ethnicity_white) FILTER (WHERE s_ethnicity_white IS NOT NULL) AS p_ethnicity_white,
        sum(known_ethnicity) FILTER (WHERE s_ethnicity_white IS NOT NULL) AS k_ethnicity_white,
        sum(CAST(known_ethnicity * s_ethnicity_white AS DECIMAL(38, 12))) AS e_ethnicity_white,
        sum(n_ethnicity_white) FILTER (WHERE s_ethnicity_white IS NULL) AS l_ethnicity_white,
        sum(n_ethnicity_asian) FILTER (WHERE s_ethnicity_asian IS NOT NULL) AS p_ethnicity_asian,
        sum(known_ethnicity) FILTER (WHERE s_ethnicity_asian IS NOT NULL) AS k_ethnicity_asian,
        sum(CAST(known_ethnicity * s_ethnicity_asian AS DECIMAL(38, 12))) AS e_ethnicity_asian,
        sum(n_ethnicity_asian) FILTER (WHERE s_ethnicity_asian IS NULL) AS l_ethnicity_asian,
        sum(n_ethnicity_black) FILTER (WHERE s_ethnicity_black IS NOT NULL) AS p_ethnicity_black,
        sum(known_ethnicity) FILTER (WHERE s_ethnicity_black IS NOT NULL) AS k_ethnicity_black,
        sum(CAST(known_ethnicity * s_ethnicity_black AS DECIMAL(38, 12))) AS e_ethnicity_black,
        sum(n_ethnicity_black) FILTER (WHERE s_ethnicity_black IS NULL) AS l_ethnicity_black,
        sum(n_ethnicity_mixed) FILTER (WHERE s_ethnicity_mixed IS NOT NULL) AS p_ethnicity_mixed,
        sum(known_ethnicity) FILTER (WHERE s_ethnicity_mixed IS NOT NULL) AS k_ethnicity_mixed,
        sum(CAST(known_ethnicity * s_ethnicity_mixed AS DECIMAL(38, 12))) AS e_ethnicity_mixed,
        sum(n_ethnicity_mixed) FILTER (WHERE s_ethnicity_mixed IS NULL) AS l_ethnicity_mixed,
        sum(n_ethnicity_other) FILTER (WHERE s_ethnicity_other IS NOT NULL) AS p_ethnicity_other,
        sum(known_ethnicity) FILTER (WHERE s_ethnicity_other IS NOT NULL) AS k_ethnicity_other,
        sum(CAST(known_ethnicity * s_ethnicity_other AS DECIMAL(38, 12))) AS e_ethnicity_other,
        sum(n_ethnicity_other) FILTER (WHERE s_ethnicity_other IS NULL) AS l_ethnicity_other,
        sum(n_disabled) FILTER (WHERE s_disabled IS NOT NULL) AS p_disabled,
        sum(known_disability) FILTER (WHERE s_disabled IS NOT NULL) AS k_disabled,
        sum(CAST(known_disability * s_disabled AS DECIMAL(38, 12))) AS e_disabled,
        sum(n_disabled) FILTER (WHERE s_disabled IS NULL) AS l_disabled,
        sum(n_not_disabled) FILTER (WHERE s_not_disabled IS NOT NULL) AS p_not_disabled,
        sum(known_disability) FILTER (WHERE s_not_disabled IS NOT NULL) AS k_not_disabled,
        sum(CAST(known_disability * s_not_disabled AS DECIMAL(38, 12))) AS e_not_disabled,
        sum(n_not_disabled) FILTER (WHERE s_not_disabled IS NULL) AS l_not_disabled
    FROM with_share
    GROUP BY window_id, grp
),
