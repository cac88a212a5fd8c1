-- CTE `partnerships_source`: the register rows partnerships.sql counts, from the ward-level facts
-- (kpis/facts.py), one per register row (`partnerships` 1), with the asset-transfer flags.
-- Included after _scope_groups.sql. For a figure whose every window is one quarter, with wards or
-- neighbourhoods in scope and no directorate filter, kpis.engine swaps in
-- _partnerships_ward_source.sql (the rows counted per quarter and ward over every directorate);
-- kpis/facts.py builds that roll-up from this CTE. Not a query on its own.
partnerships_source AS (
    SELECT quarter, directorate, ward_code, partnership_id, start_quarter,
        arrangement = 'community_asset_transfer' AS is_cat,
        arrangement = 'community_asset_transfer'
            AND coalesce(lease_years >= $long_lease_years, FALSE) AS is_long_cat,
        1 AS partnerships
    FROM partnership_facts
),
