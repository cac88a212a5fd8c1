-- Devolved budget in scope by mechanism (every mechanism, data or not), from budget_facts.
-- Parameters: $quarters, $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter
-- list means no filter), $mechanisms (VARCHAR[], etl.contract.MECHANISMS in order).
WITH
scope_quarters AS (SELECT DISTINCT unnest($quarters) AS quarter),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
scope_wards AS (  -- per quarter: the wards of its ward set (docs/ward-vintages.md)
    SELECT quarter, ward_code
    FROM quarter_wards
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
scoped AS (  -- borough-wide lines only when no neighbourhood or ward is named
    SELECT b.*
    FROM budget_facts AS b
    LEFT JOIN scope_wards AS w ON w.ward_code = b.ward_code AND w.quarter = b.quarter
    WHERE list_contains($quarters, b.quarter)
      AND (len($directorates) = 0 OR list_contains($directorates, b.directorate))
      AND (w.ward_code IS NOT NULL
           OR len($neighbourhoods) + len($wards) = 0)  -- no geographic filter: every row
),
mechanisms AS (
    SELECT unnest($mechanisms) AS mechanism, generate_subscripts($mechanisms, 1) AS position
),
by_mechanism AS (  -- lines with money devolved, and that money
    SELECT mechanism, sum(devolved_lines) AS budget_lines,
        CAST(sum(devolved_gbp) AS DOUBLE) AS devolved_gbp
    FROM scoped
    WHERE devolved_lines > 0
    GROUP BY mechanism
),
overall AS (
    SELECT CAST(sum(total_budget_gbp) AS DOUBLE) AS total_gbp,
        CAST(sum(devolved_gbp) AS DOUBLE) AS devolved_gbp
    FROM scoped
)
SELECT
    m.mechanism,
    CAST(coalesce(b.budget_lines, 0) AS BIGINT) AS budget_lines,
    coalesce(b.devolved_gbp, 0) AS devolved_gbp,
    coalesce(b.devolved_gbp, 0) / nullif(o.total_gbp, 0) AS share_of_budget,
    coalesce(b.devolved_gbp, 0) / nullif(o.devolved_gbp, 0) AS share_of_devolved
FROM mechanisms AS m
CROSS JOIN overall AS o
LEFT JOIN by_mechanism AS b USING (mechanism)
ORDER BY m.position;
