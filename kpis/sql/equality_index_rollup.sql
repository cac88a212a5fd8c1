-- The engagement_equality_index alone for the council or by directorate, from equality_rollup:
-- equality_rollup.sql's figure without its per-group rows. Parameters: as equality_rollup.sql.
-- @include _equality_from_rollup.sql  (WITH ... wide_totals)
-- @include _equality_index.sql  (group_totals, shares, dimension_index, overall)
SELECT window_id, grp, engagement_equality_index
FROM overall
ORDER BY window_id, grp;
