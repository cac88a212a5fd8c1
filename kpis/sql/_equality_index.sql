-- The index's CTEs of the equality queries (equality*.sql), after their `groups` and `wide_totals`
-- CTEs (_equality_from_facts.sql, _equality_from_rollup.sql; wide_totals: per window and output
-- group, p_/k_/e_/l_<group> for each demographic group: participants, known, expected and left
-- out): the demographic groups, the shares, EEI_d and the index. Not a query on its own: a SELECT
-- follows it.
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
group_totals AS (  -- one row per window, output group and demographic group
    -- left_out: participants of the group at activities in wards with no population for its
    -- dimension (a blank pop_ count): not in p_g or q_g, reported so pages can say so.
    -- The wide row is unpivoted by unnesting lists of the same length side by side: a lateral
    -- VALUES list is planned as a join of the wide rows with a distinct copy of themselves
    -- (250 ms of the 800 ms of a national ward table's equality query).
    SELECT window_id, grp,
        unnest([
            'age_16_24', 'age_25_44', 'age_45_64', 'age_65_plus', 'female', 'male',
            'ethnicity_white', 'ethnicity_asian', 'ethnicity_black', 'ethnicity_mixed',
            'ethnicity_other', 'disabled', 'not_disabled'
        ]) AS group_name,
        CAST(unnest([
            p_age_16_24, p_age_25_44, p_age_45_64, p_age_65_plus, p_female, p_male,
            p_ethnicity_white, p_ethnicity_asian, p_ethnicity_black, p_ethnicity_mixed,
            p_ethnicity_other, p_disabled, p_not_disabled
        ]) AS DOUBLE) AS participants,
        unnest([
            k_age_16_24, k_age_25_44, k_age_45_64, k_age_65_plus, k_female, k_male,
            k_ethnicity_white, k_ethnicity_asian, k_ethnicity_black, k_ethnicity_mixed,
            k_ethnicity_other, k_disabled, k_not_disabled
        ]) AS known,
        unnest([
            e_age_16_24, e_age_25_44, e_age_45_64, e_age_65_plus, e_female, e_male,
            e_ethnicity_white, e_ethnicity_asian, e_ethnicity_black, e_ethnicity_mixed,
            e_ethnicity_other, e_disabled, e_not_disabled
        ]) AS expected,
        unnest([
            l_age_16_24, l_age_25_44, l_age_45_64, l_age_65_plus, l_female, l_male,
            l_ethnicity_white, l_ethnicity_asian, l_ethnicity_black, l_ethnicity_mixed,
            l_ethnicity_other, l_disabled, l_not_disabled
        ]) AS left_out
    FROM wide_totals
),
shares AS (  -- every group of every dimension for every window and output group
    SELECT
        g.window_id, g.grp, d.dimension, d.group_name, d.group_order,
        coalesce(t.participants, 0) AS participants,
        coalesce(t.known, 0) AS known,
        coalesce(t.left_out, 0) AS left_out,
        t.participants / nullif(t.known, 0) AS p_share,
        t.expected / nullif(t.known, 0) AS q_share
    FROM groups AS g
    CROSS JOIN dims AS d
    LEFT JOIN group_totals AS t USING (window_id, grp, group_name)
),
dimension_index AS (  -- EEI_d, defined when the dimension has a known participant
    SELECT window_id, grp, dimension,
        -- added up in the groups' fixed order (a float sum's last digit depends on its order):
        -- collected unordered as (order, term) pairs and sorted, which is far cheaper than an
        -- aggregate's ORDER BY
        CASE WHEN max(known) > 0
            THEN 1 - 0.5 * list_sum(list_transform(
                list_sort(list({'o': group_order, 'v': abs(p_share - q_share)})), x -> x.v)) END AS eei
    FROM shares
    GROUP BY window_id, grp, dimension
),
overall AS (  -- mean of the defined EEI_d (avg skips the undefined ones)
    SELECT window_id, grp,
        list_avg(list_transform(list_sort(list({'o': dimension, 'v': eei})), x -> x.v))
            AS engagement_equality_index
    FROM dimension_index
    GROUP BY window_id, grp
)
