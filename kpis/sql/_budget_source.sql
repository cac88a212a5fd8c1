-- CTE `budget_source`: the rows budget.sql sums, from the ward-level facts (kpis/facts.py), one
-- per submission, ward and mechanism. Included after _scope_groups.sql. kpis.engine swaps in
-- _budget_ward_source.sql (the same columns, summed over directorates) for a figure with wards
-- or neighbourhoods in scope and no directorate filter. Not a query on its own.
budget_source AS (
    SELECT quarter, directorate, ward_code, budget_lines, total_budget_gbp, devolved_gbp,
        CASE WHEN mechanism = 'participatory_budgeting' THEN devolved_gbp END AS pb_gbp
    FROM budget_facts
),
