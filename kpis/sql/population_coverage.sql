-- For each demographic dimension: how many wards are in the geographic scope and which of them
-- do not know their population for it (a blank pop_ count, or counts summing to 0), so that the
-- equality index leaves the dimension out for activities held there.
-- Parameters: $neighbourhoods, $wards (VARCHAR[]; empty = no filter), $dimension_names and
-- $dimension_groups (VARCHAR[] zipped: every group of etl.contract.DIMENSIONS with its dimension).
WITH
dims AS (
    SELECT unnest($dimension_names) AS dimension, unnest($dimension_groups) AS group_name,
        generate_subscripts($dimension_names, 1) AS position
),
-- @include _ward_population.sql  (ward_population, ward_dimension_known)
scope_wards AS (
    SELECT ward_code, ward_name
    FROM wards
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
dimensions AS (SELECT dimension, min(position) AS position FROM dims GROUP BY dimension),
unknown AS (  -- wards in scope without a known population for the dimension
    SELECT d.dimension, w.ward_code, w.ward_name
    FROM dimensions AS d
    CROSS JOIN scope_wards AS w
    ANTI JOIN ward_dimension_known AS k ON k.ward_code = w.ward_code AND k.dimension = d.dimension
)
SELECT
    d.dimension,
    CAST((SELECT count(*) FROM scope_wards) AS BIGINT) AS wards,
    CAST(count(u.ward_code) AS BIGINT) AS wards_unknown,
    coalesce(list(u.ward_name ORDER BY u.ward_name) FILTER (WHERE u.ward_code IS NOT NULL),
             []) AS unknown_ward_names
FROM dimensions AS d
LEFT JOIN unknown AS u USING (dimension)
GROUP BY d.dimension, d.position
ORDER BY d.position;
