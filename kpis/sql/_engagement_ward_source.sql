-- CTE `engagement_source` (as _engagement_source.sql) from engagement_ward_rollup: the facts of
-- the current submissions summed per quarter and ward over every directorate, method and stage
-- (no borough-wide rows: a figure with wards in scope leaves them out). Only for a figure with no
-- directorate filter that is not by directorate (kpis.engine.run_family). Not a query on its own.
engagement_source AS (
    SELECT quarter, CAST(NULL AS VARCHAR) AS directorate, ward_code, activities, participants,
        early_activities, feedback_activities,
        age_16_24, age_25_44, age_45_64, age_65_plus, female, male, ethnicity_white,
        ethnicity_asian, ethnicity_black, ethnicity_mixed, ethnicity_other, disabled, not_disabled
    FROM engagement_ward_rollup
),
