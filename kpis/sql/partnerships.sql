-- Partnership KPIs: active_partnerships, new_partnerships, cat_long_lease_share.
-- One row per window and group of $by.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped pairs: the quarters
-- of each window a figure is computed over; one window for a plain scope, several for a trend),
-- $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter list means no filter),
-- $by ('council' | 'directorate' | 'neighbourhood' | 'ward'),
-- $long_lease_years (25).
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
scoped AS (  -- register rows in scope, once per window, tagged with their group
    SELECT
        win.window_id,
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'directorate' THEN p.directorate
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
        p.directorate,
        p.partnership_id,
        p.quarter,
        p.line_no,
        p.arrangement,
        p.lease_years,
        p.start_date
    FROM partnerships AS p
    JOIN windows AS win ON win.quarter = p.quarter
    CROSS JOIN settings
    LEFT JOIN scope_wards AS w ON w.ward_code = p.ward_code
    WHERE (len($directorates) = 0 OR list_contains($directorates, p.directorate))
      AND (w.ward_code IS NOT NULL OR (p.ward_code IS NULL AND NOT settings.geographic))
),
distinct_partnerships AS (  -- a partnership once per window and group, as its latest register says
    SELECT *
    FROM scoped
    QUALIFY row_number() OVER (
        PARTITION BY window_id, grp, directorate, partnership_id ORDER BY quarter DESC, line_no
    ) = 1
),
flagged AS (
    SELECT
        d.window_id,
        d.grp,
        -- the financial-year quarter the partnership started in, spelt canonically
        (year(d.start_date) - CASE WHEN month(d.start_date) < 4 THEN 1 ELSE 0 END) AS start_fy,
        start_fy || '-' || lpad(CAST((start_fy + 1) % 100 AS VARCHAR), 2, '0')
            || ' Q' || ((month(d.start_date) + 8) % 12 // 3 + 1) AS start_quarter,
        EXISTS (
            SELECT 1 FROM windows AS win
            WHERE win.window_id = d.window_id AND win.quarter = start_quarter
        ) AS is_new,
        d.arrangement = 'community_asset_transfer' AS is_cat,
        d.arrangement = 'community_asset_transfer' AND d.lease_years >= $long_lease_years
            AS is_long_cat
    FROM distinct_partnerships AS d
),
totals AS (
    SELECT
        window_id,
        grp,
        count(*) AS active_partnerships,
        count(*) FILTER (WHERE is_new) AS new_partnerships,
        count(*) FILTER (WHERE is_cat) AS cat_partnerships,
        count(*) FILTER (WHERE is_long_cat) AS cat_long_lease
    FROM flagged
    GROUP BY window_id, grp
)
SELECT
    g.window_id,
    g.grp,
    CAST(coalesce(t.active_partnerships, 0) AS BIGINT) AS active_partnerships,
    CAST(coalesce(t.new_partnerships, 0) AS BIGINT) AS new_partnerships,
    CAST(coalesce(t.cat_partnerships, 0) AS BIGINT) AS cat_partnerships,
    CAST(coalesce(t.cat_long_lease, 0) AS BIGINT) AS cat_long_lease,
    CAST(t.cat_long_lease AS DOUBLE) / nullif(t.cat_partnerships, 0) AS cat_long_lease_share
FROM groups AS g
LEFT JOIN totals AS t USING (window_id, grp)
ORDER BY g.window_id, g.grp;
