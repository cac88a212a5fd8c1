-- The engagement_equality_index alone, one row per window and group of $by: equality.sql's
-- figure without its per-group rows (what kpi_frame needs; 91,000 rows fewer for 7,000 wards).
-- Parameters: as equality.sql.
-- @include _equality_from_facts.sql  (WITH ... wide_totals)
-- @include _equality_index.sql  (group_totals, shares, dimension_index, overall)
SELECT window_id, grp, engagement_equality_index
FROM overall
ORDER BY window_id, grp;
