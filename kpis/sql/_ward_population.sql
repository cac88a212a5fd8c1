-- CTEs included by population_coverage.sql after its `dims` CTE of (dimension, group_name):
-- each ward's population of every demographic group, and the (ward, dimension) pairs whose
-- population is known. The same rule as equality.sql's ward_share (a dimension's share is NULL
-- when any of its pop_ counts is NULL or they sum to 0); tests/test_kpi_equality.py checks
-- that the coverage and the index agree. Not a query on its own.
ward_population AS (  -- every ward of the council: population of each demographic group
    SELECT u.ward_code, d.dimension, d.group_name, CAST(u.pop AS DOUBLE) AS pop
    FROM (  -- INCLUDE NULLS: a blank pop_ count (NULL, not known) must stay visible
        FROM (SELECT ward_code, COLUMNS('^pop_') FROM wards)
        UNPIVOT INCLUDE NULLS (pop FOR pop_column IN (COLUMNS('^pop_')))
    ) AS u
    JOIN dims AS d ON u.pop_column = 'pop_' || d.group_name
),
ward_dimension_known AS (  -- a ward knows a dimension when every group's count is given (a
    -- blank pop_ is NULL: not known) and they sum to more than 0; otherwise the dimension is
    -- left out for activities in that ward
    SELECT ward_code, dimension
    FROM ward_population
    GROUP BY ward_code, dimension
    HAVING count(pop) = count(*) AND sum(pop) > 0
),
