-- The ward roll-up CTEs of the equality queries, up to `wide_totals`, in place of
-- _equality_from_facts.sql (kpis.engine.WARD_SOURCES) for a figure with wards or neighbourhoods
-- in scope and no directorate filter, not by directorate: equality_ward_rollup's four sums per
-- group (kpis/facts.py: per quarter and ward, every directorate's activities, with the ward's
-- shares) added up per window and output group. The same figures as the facts give: there, too,
-- a ward's expected count is rounded once per quarter and ward. Only the rows of wards in the
-- geographic scope and in their quarter's ward set count. Not a query on its own.
-- @include _scope_groups.sql  (WITH windows, scope_wards, settings, group_keys, groups)
wide_totals AS (  -- per window and output group: the roll-up's sums (expected: exact decimals)
    SELECT
        win.window_id,
        CASE $by
            WHEN 'council' THEN 'council'
            WHEN 'neighbourhood' THEN w.neighbourhood
            WHEN 'ward' THEN w.ward_code
        END AS grp,
-- @include _equality_rollup_sums.sql  (the 52 sums)
    FROM equality_ward_rollup AS r
    JOIN windows AS win ON win.quarter = r.quarter
    JOIN scope_wards AS w ON w.ward_code = r.ward_code AND w.quarter = r.quarter
    WHERE len($directorates) = 0  -- never read with a directorate filter (kpis.engine)
      AND (len($wards) = 0 OR list_contains($wards, r.ward_code))
    GROUP BY ALL
),
