-- CTE included after a `scope_quarters` CTE of (quarter): every ward of each of those quarters'
-- ward set (docs/ward-vintages.md, rule 2: the set with the latest first quarter on or before
-- the quarter; the earliest set also serves the quarters before it). One row per quarter and
-- ward, with the ward's vintage, name, neighbourhood, populations and IMD decile; `ward_history`
-- is the view in etl/warehouse.py. Not a query on its own.
quarter_wards AS NOT MATERIALIZED (
    SELECT q.quarter, h.* EXCLUDE (span_from, span_until)
    FROM scope_quarters AS q
    JOIN ward_history AS h
        ON q.quarter >= h.span_from AND (h.span_until IS NULL OR q.quarter < h.span_until)
),
