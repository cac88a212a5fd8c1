-- Participation in the most deprived wards (IMD decile 1..$most_deprived_max_decile) against the
-- other wards with a decile. Only activities held in a ward count (a borough-wide one cannot be
-- placed). No rows when no ward has an IMD decile. Each quarter uses its own ward set
-- (docs/ward-vintages.md): a ward's activities count in the quarters it existed, and a band's
-- population is averaged over the quarters (one set: exactly that set's population).
-- Parameters: $quarters, $directorates, $neighbourhoods, $wards (VARCHAR[]; an empty filter
-- list means no filter), $most_deprived_max_decile (2), $most_deprived_label, $other_label,
-- $per_population (1000).
WITH
scope_quarters AS (SELECT DISTINCT unnest($quarters) AS quarter),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
scope_wards AS (
    SELECT quarter, ward_code, population_total, imd_decile
    FROM quarter_wards
    WHERE (len($neighbourhoods) = 0 OR list_contains($neighbourhoods, neighbourhood))
      AND (len($wards) = 0 OR list_contains($wards, ward_code))
),
bands(band, band_order) AS (
    SELECT $most_deprived_label, 1
    UNION ALL
    SELECT $other_label, 2
),
banded_wards AS (
    SELECT quarter, ward_code, population_total,
        CASE WHEN imd_decile <= $most_deprived_max_decile THEN $most_deprived_label
            ELSE $other_label END AS band
    FROM scope_wards
    WHERE imd_decile IS NOT NULL
),
ward_participants AS (
    SELECT quarter, ward_code, sum(participants) AS participants
    FROM engagement_facts
    WHERE list_contains($quarters, quarter)
      AND (len($directorates) = 0 OR list_contains($directorates, directorate))
      AND ward_code IS NOT NULL
    GROUP BY quarter, ward_code
),
totals AS (
    SELECT w.band,
        count(DISTINCT w.ward_code) AS wards,
        sum(coalesce(p.participants, 0)) AS participants,
        sum(w.population_total) / count(DISTINCT w.quarter) AS population
    FROM banded_wards AS w
    LEFT JOIN ward_participants AS p USING (quarter, ward_code)
    GROUP BY w.band
)
SELECT
    b.band,
    CAST(coalesce(t.wards, 0) AS BIGINT) AS wards,
    CAST(coalesce(t.participants, 0) AS BIGINT) AS participants,
    CAST(coalesce(t.population, 0) AS BIGINT) AS population,
    CAST($per_population * t.participants AS DOUBLE)
        / nullif(CAST(t.population AS DOUBLE), 0) AS participation_per_1000
FROM bands AS b
LEFT JOIN totals AS t USING (band)
WHERE EXISTS (SELECT 1 FROM quarter_wards WHERE imd_decile IS NOT NULL)
ORDER BY b.band_order;
