-- Engagement activities and participants in scope by method and stage (the full grid), from
-- engagement_facts.
-- Parameters: $quarters, $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter
-- list means no filter), $methods, $stages (VARCHAR[], etl.contract order).
WITH
scope_quarters AS (SELECT DISTINCT unnest($quarters) AS quarter),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
scope_wards AS (  -- per quarter: the wards of its ward set (docs/ward-vintages.md)
    SELECT quarter, ward_code
    FROM quarter_wards
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
scoped AS (  -- borough-wide activities only when no neighbourhood or ward is named
    SELECT e.*
    FROM engagement_facts AS e
    LEFT JOIN scope_wards AS w ON w.ward_code = e.ward_code AND w.quarter = e.quarter
    WHERE list_contains($quarters, e.quarter)
      AND (len($directorates) = 0 OR list_contains($directorates, e.directorate))
      AND (w.ward_code IS NOT NULL
           OR len($neighbourhoods) + len($wards) = 0)  -- no geographic filter: every row
),
methods AS (SELECT unnest($methods) AS method, generate_subscripts($methods, 1) AS method_order),
stages AS (SELECT unnest($stages) AS stage, generate_subscripts($stages, 1) AS stage_order),
counts AS (
    SELECT method, stage,
        sum(activities) AS activities,
        sum(participants) AS participants,
        sum(feedback_activities) AS feedback_activities
    FROM scoped
    GROUP BY method, stage
)
SELECT
    m.method, s.stage,
    CAST(coalesce(c.activities, 0) AS BIGINT) AS activities,
    CAST(coalesce(c.participants, 0) AS BIGINT) AS participants,
    CAST(coalesce(c.feedback_activities, 0) AS BIGINT) AS feedback_activities
FROM methods AS m
CROSS JOIN stages AS s
LEFT JOIN counts AS c USING (method, stage)
ORDER BY m.method_order, s.stage_order;
