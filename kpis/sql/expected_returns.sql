-- Completeness: every expected return (each directorate x return type, for each quarter) and
-- whether a current accepted submission is in for it (a nil return, a header with no rows,
-- counts as received). The directorates are those of the reference data.
-- Parameters: $quarters, $directorates (VARCHAR[]; empty = every directorate),
-- $return_types (VARCHAR[], etl.contract order).
WITH
quarters AS (SELECT unnest($quarters) AS quarter),
return_types AS (
    SELECT unnest($return_types) AS return_type, generate_subscripts($return_types, 1) AS position
),
expected AS (
    SELECT q.quarter, d.directorate, r.return_type, r.position
    FROM quarters AS q
    CROSS JOIN directorates AS d
    CROSS JOIN return_types AS r
    WHERE len($directorates) = 0 OR list_contains($directorates, d.directorate)
)
SELECT
    e.quarter,
    e.directorate,
    e.return_type,
    s.submission_id IS NOT NULL AS received,
    s.received_at,
    s.submission_id
FROM expected AS e
LEFT JOIN current_submissions AS s
    ON s.quarter = e.quarter AND s.directorate = e.directorate AND s.return_type = e.return_type
ORDER BY e.quarter, e.directorate, e.position;
