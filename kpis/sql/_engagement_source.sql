-- CTE `engagement_source`: the rows engagement.sql and the equality queries sum, from the
-- ward-level facts (kpis/facts.py), one per submission, ward, method and stage, with the early
-- engagement rule (kpis.methodology: stage priority_setting or method codesign) applied. Included
-- after _scope_groups.sql. kpis.engine swaps in _engagement_ward_source.sql (the same columns,
-- summed over directorates) for a figure with wards or neighbourhoods in scope and no directorate
-- filter; kpis/facts.py builds that roll-up from this CTE. Not a query on its own.
engagement_source AS (
    SELECT quarter, directorate, ward_code, activities, participants,
        CASE WHEN stage = 'priority_setting' OR method = 'codesign' THEN activities ELSE 0
            END AS early_activities,
        feedback_activities,
        age_16_24, age_25_44, age_45_64, age_65_plus, female, male, ethnicity_white,
        ethnicity_asian, ethnicity_black, ethnicity_mixed, ethnicity_other, disabled, not_disabled
    FROM engagement_facts
),
