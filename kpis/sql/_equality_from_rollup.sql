-- The roll-up CTEs of the equality queries (equality_rollup.sql, equality_index_rollup.sql), up
-- to `wide_totals`; _equality_index.sql follows. Not a query on its own.
-- @include _rollup_groups.sql  (WITH windows, group_keys, groups)
wide_totals AS (  -- per window and output group: the roll-up's sums (expected: exact decimals)
    SELECT
        win.window_id,
        CASE $by WHEN 'council' THEN 'council' ELSE r.directorate END AS grp,
-- @include _equality_rollup_sums.sql  (the 52 sums)
    FROM equality_rollup AS r
    JOIN windows AS win ON win.quarter = r.quarter
    WHERE len($directorates) = 0 OR list_contains($directorates, r.directorate)
    GROUP BY ALL
),
