-- The target that applies to each KPI for a financial year and a directorate ($directorate NULL
-- = the whole council): the directorate's own target, else the council-wide one for the KPIs
-- listed in $fallback_kpis.
-- Parameters: $financial_year ('2025-26'), $directorate (VARCHAR or NULL), $fallback_kpis
-- (VARCHAR[]).
WITH candidates AS (
    SELECT
        kpi, target, direction,
        CASE WHEN directorate IS NULL THEN 'council' ELSE 'directorate' END AS target_source
    FROM targets
    WHERE financial_year = $financial_year
      AND (
          (directorate IS NULL AND $directorate IS NULL)
          OR directorate = $directorate
          OR (directorate IS NULL AND list_contains($fallback_kpis, kpi))
      )
)
SELECT kpi, target, direction, target_source
FROM candidates
QUALIFY row_number() OVER (
    PARTITION BY kpi ORDER BY target_source = 'directorate' DESC, target
) = 1
ORDER BY kpi;
