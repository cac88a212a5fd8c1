-- Every ward of the council in $quarters (the wards of each quarter's ward set), by code: the
-- 'all wards' comparator's scope.
WITH
scope_quarters AS (SELECT DISTINCT unnest($quarters) AS quarter),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
codes AS (SELECT DISTINCT ward_code FROM quarter_wards)
SELECT ward_code FROM codes ORDER BY ward_code;
