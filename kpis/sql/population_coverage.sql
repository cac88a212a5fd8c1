-- For each demographic dimension: how many wards are in the geographic scope and which of them
-- do not know their population for it (a blank pop_ count, or counts summing to 0), so that the
-- equality index leaves the dimension out for activities held there.
-- The wards are those of the ward sets of $quarters (docs/ward-vintages.md); a ward counts once
-- however many of the quarters it serves, and is unknown when it is unknown in any of them.
-- Parameters: $quarters, $neighbourhoods, $wards (VARCHAR[]; empty = no filter), $dimension_names
-- and $dimension_groups (VARCHAR[] zipped: every group of etl.contract.DIMENSIONS with its
-- dimension).
WITH
dims AS (
    SELECT unnest($dimension_names) AS dimension, unnest($dimension_groups) AS group_name,
        generate_subscripts($dimension_names, 1) AS position
),
scope_quarters AS (SELECT DISTINCT unnest($quarters) AS quarter),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
-- @include _ward_population.sql  (ward_population, ward_dimension_known)
scope_wards AS (
    SELECT quarter, ward_code, ward_name
    FROM quarter_wards
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
dimensions AS (SELECT dimension, min(position) AS position FROM dims GROUP BY dimension),
unknown AS (  -- wards in scope without a known population for the dimension
    SELECT DISTINCT d.dimension, w.ward_code, w.ward_name
    FROM dimensions AS d
    CROSS JOIN scope_wards AS w
    ANTI JOIN ward_dimension_known AS k
        ON k.quarter = w.quarter AND k.ward_code = w.ward_code AND k.dimension = d.dimension
)
SELECT
    d.dimension,
    CAST((SELECT count(DISTINCT ward_code) FROM scope_wards) AS BIGINT) AS wards,
    CAST(count(DISTINCT u.ward_code) AS BIGINT) AS wards_unknown,
    coalesce(list(DISTINCT u.ward_name ORDER BY u.ward_name) FILTER (WHERE u.ward_code IS NOT NULL),
             []) AS unknown_ward_names
FROM dimensions AS d
LEFT JOIN unknown AS u USING (dimension)
GROUP BY d.dimension, d.position
ORDER BY d.position;
