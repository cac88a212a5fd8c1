-- Cold spots: every ward of the council with its participation per 1,000 over $quarters, its
-- rank (1 = lowest) and whether it is a cold spot (at most the k-th smallest value,
-- k = ceil(n / $cold_spot_divisor), so every ward tied at the cut is included).
-- The wards are those of each quarter's ward set (docs/ward-vintages.md): a ward's participants
-- count in the quarters it existed, over its population (averaged over those quarters; one set:
-- exactly its population), and its name and neighbourhood are those of its latest quarter.
-- Parameters: $quarters, $directorates (VARCHAR[]; empty = every directorate),
-- $cold_spot_divisor (5), $per_population (1000).
WITH
scope_quarters AS (SELECT DISTINCT unnest($quarters) AS quarter),
-- @include _quarter_wards.sql  (quarter_wards: every ward of each quarter's set)
ward_participants AS (  -- activities held in a ward; borough-wide ones are in no ward
    SELECT quarter, ward_code, sum(participants) AS participants
    FROM engagement_facts
    WHERE list_contains($quarters, quarter)
      AND (len($directorates) = 0 OR list_contains($directorates, directorate))
      AND ward_code IS NOT NULL
    GROUP BY quarter, ward_code
),
ward_totals AS (
    SELECT w.ward_code,
        arg_max(w.ward_name, w.quarter) AS ward_name,
        arg_max(w.neighbourhood, w.quarter) AS neighbourhood,
        coalesce(sum(p.participants), 0) AS participants,
        avg(w.population_total) AS population
    FROM quarter_wards AS w
    LEFT JOIN ward_participants AS p USING (quarter, ward_code)
    GROUP BY w.ward_code
),
rates AS (  -- a ward with no activity has 0; a ward with no residents has no rate
    SELECT
        ward_code, ward_name, neighbourhood,
        CAST(participants AS BIGINT) AS participants,
        CAST(population AS BIGINT) AS population,
        CAST($per_population * participants AS DOUBLE)
            / nullif(CAST(population AS DOUBLE), 0) AS participation_per_1000
    FROM ward_totals
),
ordered AS (
    SELECT ward_code, participation_per_1000,
        row_number() OVER (ORDER BY participation_per_1000, ward_code) AS position
    FROM rates
    WHERE participation_per_1000 IS NOT NULL
),
cut AS (  -- the k-th smallest value
    SELECT o.participation_per_1000 AS cut_value
    FROM ordered AS o
    WHERE o.position = (SELECT CAST(ceil(count(*) / $cold_spot_divisor) AS BIGINT) FROM ordered)
)
SELECT
    r.ward_code, r.ward_name, r.neighbourhood, r.participants, r.population,
    r.participation_per_1000,
    CASE WHEN r.participation_per_1000 IS NOT NULL
        THEN rank() OVER (ORDER BY r.participation_per_1000 NULLS LAST)
    END AS rank,
    coalesce(r.participation_per_1000 <= (SELECT cut_value FROM cut), FALSE) AS is_cold_spot
FROM rates AS r
ORDER BY r.participation_per_1000 NULLS LAST, r.ward_code;
