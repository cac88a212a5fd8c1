-- The per-group SELECT of equality.sql and equality_rollup.sql, after _equality_index.sql: every
-- demographic group of every window and output group, with its dimension's EEI_d and the index.
SELECT
    s.window_id,
    s.grp,
    s.dimension,
    s.group_name,
    CAST(s.participants AS BIGINT) AS participants,
    CAST(s.known AS BIGINT) AS known,
    s.p_share,
    s.q_share,
    s.p_share / nullif(s.q_share, 0) AS ratio,
    coalesce(s.p_share / nullif(s.q_share, 0) < $under_represented_ratio, FALSE) AS under_represented,
    s.known < $low_base_min_known AS low_base,
    di.eei,
    o.engagement_equality_index,
    CAST(s.left_out AS BIGINT) AS left_out
FROM shares AS s
JOIN dimension_index AS di USING (window_id, grp, dimension)
JOIN overall AS o USING (window_id, grp)
ORDER BY s.window_id, s.grp, s.group_order;
