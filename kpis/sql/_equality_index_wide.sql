-- The engagement_equality_index alone, after a `groups` and a `wide_totals` CTE
-- (_equality_from_facts.sql, _equality_from_rollup.sql): the figure of _equality_index.sql
-- computed on the wide row of each window and output group, with no unpivot to one row per
-- demographic group (91,000 rows for a table of 7,000 wards). The expressions are those of
-- _equality_index.sql term by term: p_share and q_share of each group, |p - q| added up by
-- list_sum in the groups' fixed order, EEI_d defined when the dimension has a known participant,
-- and the index the list_avg of the defined EEI_d in the dimensions' sorted order; so the figure
-- is the same to the last bit (tests/test_facts.py checks it). The groups of each dimension are
-- etl.contract.DIMENSIONS. Not a query on its own: the SELECT that ends the query.
wide_index AS (
    SELECT window_id, grp,
        CASE WHEN greatest(coalesce(k_age_16_24, 0), coalesce(k_age_25_44, 0), coalesce(k_age_45_64, 0), coalesce(k_age_65_plus, 0)) > 0
            THEN 1 - 0.5 * list_sum([
                abs(p_age_16_24 / nullif(k_age_16_24, 0) - e_age_16_24 / nullif(k_age_16_24, 0)),
                abs(p_age_25_44 / nullif(k_age_25_44, 0) - e_age_25_44 / nullif(k_age_25_44, 0)),
                abs(p_age_45_64 / nullif(k_age_45_64, 0) - e_age_45_64 / nullif(k_age_45_64, 0)),
                abs(p_age_65_plus / nullif(k_age_65_plus, 0) - e_age_65_plus / nullif(k_age_65_plus, 0))
            ]) END AS eei_age,
        CASE WHEN greatest(coalesce(k_female, 0), coalesce(k_male, 0)) > 0
            THEN 1 - 0.5 * list_sum([
                abs(p_female / nullif(k_female, 0) - e_female / nullif(k_female, 0)),
                abs(p_male / nullif(k_male, 0) - e_male / nullif(k_male, 0))
            ]) END AS eei_sex,
        CASE WHEN greatest(coalesce(k_ethnicity_white, 0), coalesce(k_ethnicity_asian, 0), coalesce(k_ethnicity_black, 0), coalesce(k_ethnicity_mixed, 0), coalesce(k_ethnicity_other, 0)) > 0
            THEN 1 - 0.5 * list_sum([
                abs(p_ethnicity_white / nullif(k_ethnicity_white, 0) - e_ethnicity_white / nullif(k_ethnicity_white, 0)),
                abs(p_ethnicity_asian / nullif(k_ethnicity_asian, 0) - e_ethnicity_asian / nullif(k_ethnicity_asian, 0)),
                abs(p_ethnicity_black / nullif(k_ethnicity_black, 0) - e_ethnicity_black / nullif(k_ethnicity_black, 0)),
                abs(p_ethnicity_mixed / nullif(k_ethnicity_mixed, 0) - e_ethnicity_mixed / nullif(k_ethnicity_mixed, 0)),
                abs(p_ethnicity_other / nullif(k_ethnicity_other, 0) - e_ethnicity_other / nullif(k_ethnicity_other, 0))
            ]) END AS eei_ethnicity,
        CASE WHEN greatest(coalesce(k_disabled, 0), coalesce(k_not_disabled, 0)) > 0
            THEN 1 - 0.5 * list_sum([
                abs(p_disabled / nullif(k_disabled, 0) - e_disabled / nullif(k_disabled, 0)),
                abs(p_not_disabled / nullif(k_not_disabled, 0) - e_not_disabled / nullif(k_not_disabled, 0))
            ]) END AS eei_disability
    FROM wide_totals
)
SELECT g.window_id, g.grp,
    list_avg([i.eei_age, i.eei_disability, i.eei_ethnicity, i.eei_sex]) AS engagement_equality_index
FROM groups AS g
LEFT JOIN wide_index AS i USING (window_id, grp)
ORDER BY g.window_id, g.grp;
