-- Distinct partnerships in scope by partner type or by arrangement (every category, data or not):
-- how many, how many new, how many community asset transfers (and on long leases), annual value.
-- Parameters: $quarters, $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter
-- list means no filter), $group_by ('partner_type' | 'arrangement'), $categories (VARCHAR[]: the
-- contract's values of that column, in order), $long_lease_years (25).
WITH
scope_quarters AS (SELECT DISTINCT unnest($quarters) AS quarter),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
scope_wards AS (  -- per quarter: the wards of its ward set (docs/ward-vintages.md)
    SELECT quarter, ward_code
    FROM quarter_wards
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
scoped AS (  -- borough-wide partnerships only when no neighbourhood or ward is named
    SELECT p.*
    FROM partnership_facts AS p
    LEFT JOIN scope_wards AS w ON w.ward_code = p.ward_code AND w.quarter = p.quarter
    WHERE list_contains($quarters, p.quarter)
      AND (len($directorates) = 0 OR list_contains($directorates, p.directorate))
      AND (w.ward_code IS NOT NULL
           OR len($neighbourhoods) + len($wards) = 0)  -- no geographic filter: every row
),
distinct_partnerships AS (  -- once each, as its latest register in scope says
    SELECT *
    FROM scoped
    QUALIFY row_number() OVER (
        PARTITION BY directorate, partnership_id ORDER BY quarter DESC, line_no
    ) = 1
),
categories AS (
    SELECT unnest($categories) AS category, generate_subscripts($categories, 1) AS position
),
counts AS (
    SELECT CASE $group_by WHEN 'arrangement' THEN arrangement ELSE partner_type END AS category,
        count(*) AS partnerships,
        count(*) FILTER (WHERE list_contains($quarters, start_quarter)) AS new_partnerships,
        count(*) FILTER (WHERE arrangement = 'community_asset_transfer') AS cat_partnerships,
        count(*) FILTER (
            WHERE arrangement = 'community_asset_transfer' AND lease_years >= $long_lease_years
        ) AS cat_long_lease,
        sum(CAST(annual_value_gbp AS DOUBLE)) AS annual_value_gbp
    FROM distinct_partnerships
    GROUP BY category
)
SELECT
    t.category,
    CAST(coalesce(c.partnerships, 0) AS BIGINT) AS partnerships,
    CAST(coalesce(c.new_partnerships, 0) AS BIGINT) AS new_partnerships,
    CAST(coalesce(c.cat_partnerships, 0) AS BIGINT) AS cat_partnerships,
    CAST(coalesce(c.cat_long_lease, 0) AS BIGINT) AS cat_long_lease,
    coalesce(c.annual_value_gbp, 0) AS annual_value_gbp
FROM categories AS t
LEFT JOIN counts AS c USING (category)
ORDER BY t.position;
