-- Partnership KPIs: active_partnerships, new_partnerships, cat_long_lease_share.
-- One row per group of $by.
-- Parameters: $quarters, $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter
-- list means no filter), $by ('council' | 'directorate' | 'neighbourhood' | 'ward'),
-- $long_lease_years (25).
WITH
scope_wards AS (  -- wards in the geographic scope
    SELECT ward_code, neighbourhood
    FROM wards
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
settings AS (  -- borough-wide rows drop out of any ward or neighbourhood figure
    SELECT len($neighbourhoods) + len($wards) > 0 OR $by IN ('neighbourhood', 'ward') AS geographic
),
groups AS (  -- one output row per group, data or not
    SELECT 'council' AS grp WHERE $by = 'council'
    UNION ALL
    SELECT directorate FROM directorates
    WHERE $by = 'directorate' AND (len($directorates) = 0 OR list_contains($directorates, directorate))
    UNION ALL
    SELECT DISTINCT neighbourhood FROM scope_wards WHERE $by = 'neighbourhood'
    UNION ALL
    SELECT ward_code FROM scope_wards WHERE $by = 'ward'
),
scoped AS (  -- register rows in scope, tagged with their group
    SELECT
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'directorate' THEN p.directorate
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
        p.*
    FROM partnerships AS p
    CROSS JOIN settings
    LEFT JOIN scope_wards AS w ON w.ward_code = p.ward_code
    WHERE list_contains($quarters, p.quarter)
      AND (len($directorates) = 0 OR list_contains($directorates, p.directorate))
      AND (w.ward_code IS NOT NULL OR (p.ward_code IS NULL AND NOT settings.geographic))
),
distinct_partnerships AS (  -- a partnership once per group, as its latest register in scope says
    SELECT *
    FROM scoped
    QUALIFY row_number() OVER (
        PARTITION BY grp, directorate, partnership_id ORDER BY quarter DESC, line_no
    ) = 1
),
flagged AS (
    SELECT
        grp,
        -- the financial-year quarter the partnership started in, spelt canonically
        (year(start_date) - CASE WHEN month(start_date) < 4 THEN 1 ELSE 0 END) AS start_fy,
        start_fy || '-' || lpad(CAST((start_fy + 1) % 100 AS VARCHAR), 2, '0')
            || ' Q' || ((month(start_date) + 8) % 12 // 3 + 1) AS start_quarter,
        list_contains($quarters, start_quarter) AS is_new,
        arrangement = 'community_asset_transfer' AS is_cat,
        arrangement = 'community_asset_transfer' AND lease_years >= $long_lease_years AS is_long_cat
    FROM distinct_partnerships
),
totals AS (
    SELECT
        grp,
        count(*) AS active_partnerships,
        count(*) FILTER (WHERE is_new) AS new_partnerships,
        count(*) FILTER (WHERE is_cat) AS cat_partnerships,
        count(*) FILTER (WHERE is_long_cat) AS cat_long_lease
    FROM flagged
    GROUP BY grp
)
SELECT
    g.grp,
    CAST(coalesce(t.active_partnerships, 0) AS BIGINT) AS active_partnerships,
    CAST(coalesce(t.new_partnerships, 0) AS BIGINT) AS new_partnerships,
    CAST(coalesce(t.cat_partnerships, 0) AS BIGINT) AS cat_partnerships,
    CAST(coalesce(t.cat_long_lease, 0) AS BIGINT) AS cat_long_lease,
    CAST(t.cat_long_lease AS DOUBLE) / nullif(t.cat_partnerships, 0) AS cat_long_lease_share
FROM groups AS g
LEFT JOIN totals AS t USING (grp)
ORDER BY g.grp;
