-- Quarters with at least one current (newest accepted) return, oldest first. Canonical quarters
-- ('2025-26 Q2') sort chronologically as text.
SELECT DISTINCT quarter
FROM current_submissions
WHERE quarter IS NOT NULL
ORDER BY quarter;
