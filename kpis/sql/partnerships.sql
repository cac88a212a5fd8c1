-- Partnership KPIs: active_partnerships, new_partnerships, cat_long_lease_share.
-- One row per window and group of $by.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped pairs: the quarters
-- of each window a figure is computed over; one window for a plain scope, several for a trend),
-- $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter list means no filter),
-- $by ('council' | 'directorate' | 'neighbourhood' | 'ward'),
-- $long_lease_years (25).
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
-- @include _partnerships_source.sql  (partnerships_source)
scoped AS (  -- register rows in scope (partnership_facts), once per window, tagged with their group
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
        p.start_quarter,
        p.is_cat,
        p.is_long_cat,
        p.partnerships
    FROM partnerships_source AS p
    JOIN windows AS win ON win.quarter = p.quarter
    CROSS JOIN settings
    LEFT JOIN scope_wards AS w ON w.ward_code = p.ward_code AND w.quarter = p.quarter
    WHERE (len($directorates) = 0 OR list_contains($directorates, p.directorate))
      AND (w.ward_code IS NOT NULL OR NOT settings.geographic)  -- a council or directorate figure takes every row, whichever ward it names
      -- implied by the ward join; said here too so that rows of other wards drop at the scan,
      -- before the windows of a trend multiply them
      AND (len($wards) = 0 OR list_contains($wards, p.ward_code))
      AND (len($neighbourhoods) = 0 OR p.ward_code IN (SELECT ward_code FROM scope_wards))
),
window_size AS (
    SELECT window_id, count(*) AS quarters FROM windows GROUP BY window_id
),
distinct_partnerships AS (  -- a partnership once per window and group, as its latest register says
    -- one quarter: a register lists each partnership once, so every row is already distinct
    -- (`partnerships` of them: 1 per fact, the count of a ward roll-up row)
    SELECT s.window_id, s.grp, s.start_quarter, s.is_cat, s.is_long_cat, s.partnerships
    FROM scoped AS s
    JOIN window_size AS z USING (window_id)
    WHERE z.quarters = 1
    UNION ALL
    -- several quarters: the row of the latest quarter (one per directorate and id each quarter)
    SELECT s.window_id, s.grp,
        arg_max(s.start_quarter, s.quarter),
        arg_max(s.is_cat, s.quarter),
        arg_max(s.is_long_cat, s.quarter),
        1
    FROM scoped AS s
    JOIN window_size AS z USING (window_id)
    WHERE z.quarters > 1
    GROUP BY s.window_id, s.grp, s.directorate, s.partnership_id
),
flagged AS (
    SELECT
        d.window_id,
        d.grp,
        win.quarter IS NOT NULL AS is_new,  -- started in one of the window's quarters
        d.is_cat,
        d.is_long_cat,
        d.partnerships
    FROM distinct_partnerships AS d
    LEFT JOIN windows AS win ON win.window_id = d.window_id AND win.quarter = d.start_quarter
),
totals AS (
    SELECT
        window_id,
        grp,
        sum(partnerships) AS active_partnerships,
        coalesce(sum(partnerships) FILTER (WHERE is_new), 0) AS new_partnerships,
        coalesce(sum(partnerships) FILTER (WHERE is_cat), 0) AS cat_partnerships,
        coalesce(sum(partnerships) FILTER (WHERE is_long_cat), 0) AS cat_long_lease
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
