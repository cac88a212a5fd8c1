-- CTE `budget_source` (as _budget_source.sql) from budget_ward_rollup: the facts of the current
-- submissions summed per quarter and ward over every directorate (no borough-wide rows: a figure
-- with wards in scope leaves them out). Only for a figure with no directorate filter that is not
-- by directorate (kpis.engine.run_family). Not a query on its own.
budget_source AS (
    SELECT quarter, CAST(NULL AS VARCHAR) AS directorate, ward_code, budget_lines,
        total_budget_gbp, devolved_gbp, pb_gbp
    FROM budget_ward_rollup
),
