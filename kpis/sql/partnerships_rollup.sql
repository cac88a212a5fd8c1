-- Partnership KPIs for the council or by directorate (partnerships.sql's figures, no ward or
-- neighbourhood in scope), from partnership_rollup (kpis/facts.py). Every window must be a run
-- of consecutive quarters (kpis.engine checks; partnerships.sql takes any other): a partnership
-- counts once per window, by its row with no later appearance in the window, i.e. whose
-- next_quarter is NULL or after the window's last quarter. One row per window and group of $by.
-- Parameters: $window_ids INTEGER[] and $window_quarters VARCHAR[] (zipped: the quarters of each
-- window), $directorates (VARCHAR[]; empty = every directorate), $by ('council' | 'directorate').
-- @include _rollup_groups.sql  (WITH windows, group_keys, groups)
window_last AS (  -- canonical quarters sort chronologically as text
    SELECT window_id, max(quarter) AS last_quarter FROM windows GROUP BY window_id
),
per_group AS (  -- the roll-up summed per output group, before a trend's windows repeat it
    SELECT
        CASE $by WHEN 'council' THEN 'council' ELSE r.directorate END AS grp,
        r.quarter, r.next_quarter, r.start_quarter, r.is_cat, r.is_long_cat,
        sum(r.partnerships) AS partnerships
    FROM partnership_rollup AS r
    WHERE (len($directorates) = 0 OR list_contains($directorates, r.directorate))
      AND r.quarter IN (SELECT quarter FROM windows)
    GROUP BY ALL
),
latest AS (  -- each partnership's latest register row in the window, counted
    SELECT
        win.window_id,
        r.grp,
        r.start_quarter,
        r.is_cat,
        r.is_long_cat,
        r.partnerships
    FROM per_group AS r
    JOIN windows AS win ON win.quarter = r.quarter
    JOIN window_last AS l ON l.window_id = win.window_id
    WHERE r.next_quarter IS NULL OR r.next_quarter > l.last_quarter
),
totals AS (
    SELECT
        p.window_id,
        p.grp,
        sum(p.partnerships) AS active_partnerships,
        -- started in one of the window's quarters
        coalesce(sum(p.partnerships) FILTER (WHERE win.quarter IS NOT NULL), 0) AS new_partnerships,
        coalesce(sum(p.partnerships) FILTER (WHERE p.is_cat), 0) AS cat_partnerships,
        coalesce(sum(p.partnerships) FILTER (WHERE p.is_long_cat), 0) AS cat_long_lease
    FROM latest AS p
    LEFT JOIN windows AS win ON win.window_id = p.window_id AND win.quarter = p.start_quarter
    GROUP BY p.window_id, p.grp
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
