-- CTEs included by population_coverage.sql after its `dims` CTE of (dimension, group_name) and
-- its `quarter_wards` (the wards of each quarter's ward set):
-- each ward's population of every demographic group, and the (quarter, ward, dimension) whose
-- population is known. The same rule as equality.sql's ward_share (a dimension's share is NULL
-- when any of its pop_ counts is NULL or they sum to 0); tests/test_kpi_equality.py checks
-- that the coverage and the index agree. Not a query on its own.
ward_population AS (  -- every ward of each quarter's set: population of each demographic group
    SELECT u.quarter, u.ward_code, d.dimension, d.group_name, CAST(u.pop AS DOUBLE) AS pop
    FROM (  -- INCLUDE NULLS: a blank pop_ count (NULL, not known) must stay visible
        FROM (SELECT quarter, ward_code, COLUMNS('^pop_') FROM quarter_wards)
        UNPIVOT INCLUDE NULLS (pop FOR pop_column IN (COLUMNS('^pop_')))
    ) AS u
    JOIN dims AS d ON u.pop_column = 'pop_' || d.group_name
),
ward_dimension_known AS (  -- a ward knows a dimension when every group's count is given (a
    -- blank pop_ is NULL: not known) and they sum to more than 0; otherwise the dimension is
    -- left out for activities in that ward
    SELECT quarter, ward_code, dimension
    FROM ward_population
    GROUP BY quarter, ward_code, dimension
    HAVING count(pop) = count(*) AND sum(pop) > 0
),
