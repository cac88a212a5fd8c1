-- CTE `partnerships_source` (as _partnerships_source.sql) from partnership_ward_rollup: register
-- rows counted per quarter and ward over every directorate, with start_quarter kept only where it
-- is the row's own quarter (all a one-quarter window asks of it: did the partnership start in the
-- window?). No partnership ids, so only for figures whose every window is one quarter (a register
-- lists each partnership once: its rows are already distinct), with wards in scope and no
-- directorate filter (kpis.engine.run_family). Not a query on its own.
partnerships_source AS (
    SELECT quarter, CAST(NULL AS VARCHAR) AS directorate, ward_code,
        CAST(NULL AS VARCHAR) AS partnership_id, start_quarter, is_cat, is_long_cat, partnerships
    FROM partnership_ward_rollup
),
