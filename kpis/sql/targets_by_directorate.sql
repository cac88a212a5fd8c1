-- targets.sql for several directorates in one query (the league): for each of $directorates, the
-- target that applies to each KPI in the financial year of a quarter: the directorate's own,
-- else the council-wide one for the KPIs listed in $fallback_kpis.
-- Parameters: $quarters (VARCHAR[]: canonical quarters, the first one's financial year is used;
-- '2025-26 Q2' is in '2025-26'), $directorates (VARCHAR[]), $fallback_kpis (VARCHAR[]).
WITH
asked AS (SELECT DISTINCT unnest($directorates) AS directorate),
candidates AS (
    SELECT
        a.directorate AS for_directorate,
        t.kpi, t.target, t.direction,
        CASE WHEN t.directorate IS NULL THEN 'council' ELSE 'directorate' END AS target_source
    FROM asked AS a
    JOIN targets AS t
        ON t.financial_year = left($quarters[1], 7)
        AND (t.directorate = a.directorate
             OR (t.directorate IS NULL AND list_contains($fallback_kpis, t.kpi)))
)
SELECT for_directorate AS directorate, kpi, target, direction, target_source
FROM candidates
QUALIFY row_number() OVER (
    PARTITION BY for_directorate, kpi ORDER BY target_source = 'directorate' DESC, target
) = 1
ORDER BY directorate, kpi;
