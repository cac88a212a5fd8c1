-- The ward roll-up CTEs of the equality queries, up to `wide_totals`, in place of
-- _equality_from_facts.sql (kpis.engine.WARD_SOURCES) for a figure with wards or neighbourhoods
-- in scope and no directorate filter, not by directorate: equality_ward_rollup's four sums per
-- group (kpis/facts.py: per quarter and ward, every directorate's activities, with the ward's
-- shares) added up per window and output group. The same figures as the facts give: there, too,
-- a ward's expected count is rounded once per quarter and ward. Only the rows of wards in the
-- geographic scope and in their quarter's ward set count. Not a query on its own.
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
wide_totals AS (  -- per window and output group: the roll-up's sums (expected: exact decimals)
    SELECT
        win.window_id,
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
        CAST(sum(r.p_age_16_24) AS DOUBLE) AS p_age_16_24, CAST(sum(r.k_age_16_24) AS DOUBLE) AS k_age_16_24,
        sum(r.e_age_16_24) AS e_age_16_24, CAST(sum(r.l_age_16_24) AS DOUBLE) AS l_age_16_24,
        CAST(sum(r.p_age_25_44) AS DOUBLE) AS p_age_25_44, CAST(sum(r.k_age_25_44) AS DOUBLE) AS k_age_25_44,
        sum(r.e_age_25_44) AS e_age_25_44, CAST(sum(r.l_age_25_44) AS DOUBLE) AS l_age_25_44,
        CAST(sum(r.p_age_45_64) AS DOUBLE) AS p_age_45_64, CAST(sum(r.k_age_45_64) AS DOUBLE) AS k_age_45_64,
        sum(r.e_age_45_64) AS e_age_45_64, CAST(sum(r.l_age_45_64) AS DOUBLE) AS l_age_45_64,
        CAST(sum(r.p_age_65_plus) AS DOUBLE) AS p_age_65_plus, CAST(sum(r.k_age_65_plus) AS DOUBLE) AS k_age_65_plus,
        sum(r.e_age_65_plus) AS e_age_65_plus, CAST(sum(r.l_age_65_plus) AS DOUBLE) AS l_age_65_plus,
        CAST(sum(r.p_female) AS DOUBLE) AS p_female, CAST(sum(r.k_female) AS DOUBLE) AS k_female,
        sum(r.e_female) AS e_female, CAST(sum(r.l_female) AS DOUBLE) AS l_female,
        CAST(sum(r.p_male) AS DOUBLE) AS p_male, CAST(sum(r.k_male) AS DOUBLE) AS k_male,
        sum(r.e_male) AS e_male, CAST(sum(r.l_male) AS DOUBLE) AS l_male,
        CAST(sum(r.p_ethnicity_white) AS DOUBLE) AS p_ethnicity_white, CAST(sum(r.k_ethnicity_white) AS DOUBLE) AS k_ethnicity_white,
        sum(r.e_ethnicity_white) AS e_ethnicity_white, CAST(sum(r.l_ethnicity_white) AS DOUBLE) AS l_ethnicity_white,
        CAST(sum(r.p_ethnicity_asian) AS DOUBLE) AS p_ethnicity_asian, CAST(sum(r.k_ethnicity_asian) AS DOUBLE) AS k_ethnicity_asian,
        sum(r.e_ethnicity_asian) AS e_ethnicity_asian, CAST(sum(r.l_ethnicity_asian) AS DOUBLE) AS l_ethnicity_asian,
        CAST(sum(r.p_ethnicity_black) AS DOUBLE) AS p_ethnicity_black, CAST(sum(r.k_ethnicity_black) AS DOUBLE) AS k_ethnicity_black,
        sum(r.e_ethnicity_black) AS e_ethnicity_black, CAST(sum(r.l_ethnicity_black) AS DOUBLE) AS l_ethnicity_black,
        CAST(sum(r.p_ethnicity_mixed) AS DOUBLE) AS p_ethnicity_mixed, CAST(sum(r.k_ethnicity_mixed) AS DOUBLE) AS k_ethnicity_mixed,
        sum(r.e_ethnicity_mixed) AS e_ethnicity_mixed, CAST(sum(r.l_ethnicity_mixed) AS DOUBLE) AS l_ethnicity_mixed,
        CAST(sum(r.p_ethnicity_other) AS DOUBLE) AS p_ethnicity_other, CAST(sum(r.k_ethnicity_other) AS DOUBLE) AS k_ethnicity_other,
        sum(r.e_ethnicity_other) AS e_ethnicity_other, CAST(sum(r.l_ethnicity_other) AS DOUBLE) AS l_ethnicity_other,
        CAST(sum(r.p_disabled) AS DOUBLE) AS p_disabled, CAST(sum(r.k_disabled) AS DOUBLE) AS k_disabled,
        sum(r.e_disabled) AS e_disabled, CAST(sum(r.l_disabled) AS DOUBLE) AS l_disabled,
        CAST(sum(r.p_not_disabled) AS DOUBLE) AS p_not_disabled, CAST(sum(r.k_not_disabled) AS DOUBLE) AS k_not_disabled,
        sum(r.e_not_disabled) AS e_not_disabled, CAST(sum(r.l_not_disabled) AS DOUBLE) AS l_not_disabled
    FROM equality_ward_rollup AS r
    JOIN windows AS win ON win.quarter = r.quarter
    JOIN scope_wards AS w ON w.ward_code = r.ward_code AND w.quarter = r.quarter
    WHERE len($directorates) = 0  -- never read with a directorate filter (kpis.engine)
      AND (len($wards) = 0 OR list_contains($wards, r.ward_code))
    GROUP BY ALL
),
