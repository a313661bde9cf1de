WITH ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, COALESCE(ep_user.profile_id, ep_anon.profile_id) AS profile_id
  FROM events e LEFT JOIN identifiers ep_user ON ep_user.namespace = 'user_id' AND ep_user.value = e.user_id
  LEFT JOIN identifiers ep_anon ON ep_anon.namespace = 'anonymous_id' AND ep_anon.value = e.anonymous_id
  WHERE e.event IN ($1, $2, $3)
),
sequence_0 AS (
  SELECT DISTINCT x.profile_id FROM (
    SELECT ev.profile_id, ev.timestamp, (ev.event = $4 AND ev.timestamp > $6) AS is_first,
      min(CASE WHEN ev.event = $5 AND coalesce((CASE WHEN regexp_full_match(json_extract_string(ev.properties, '$.revenue'), '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(json_extract_string(ev.properties, '$.revenue') AS DOUBLE) END) > 0, false) THEN ev.timestamp END) OVER (
        PARTITION BY ev.profile_id ORDER BY ev.timestamp
        RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) AS next_at
    FROM ev WHERE ev.profile_id IS NOT NULL AND ((ev.event = $4) OR (ev.event = $5 AND coalesce((CASE WHEN regexp_full_match(json_extract_string(ev.properties, '$.revenue'), '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(json_extract_string(ev.properties, '$.revenue') AS DOUBLE) END) > 0, false)))
  ) x
  WHERE x.is_first AND x.next_at <= x.timestamp + INTERVAL '7200 seconds'
),
sequence_1 AS (
  SELECT DISTINCT x.profile_id FROM (
    SELECT ev.profile_id, ev.timestamp, (ev.event = $7) AS is_first,
      min(CASE WHEN ev.event = $8 THEN ev.timestamp END) OVER (
        PARTITION BY ev.profile_id ORDER BY ev.timestamp
        RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) AS next_at
    FROM ev WHERE ev.profile_id IS NOT NULL AND ((ev.event = $7) OR (ev.event = $8))
  ) x
  WHERE x.is_first AND x.timestamp <= $9 AND (x.next_at IS NULL OR x.next_at > x.timestamp + INTERVAL '86400 seconds')
),
features AS (
  SELECT p.profile_id, (q0.profile_id IS NOT NULL) AS q0, (q1.profile_id IS NOT NULL) AS q1
  FROM (SELECT DISTINCT profile_id FROM identifiers) p
  LEFT JOIN sequence_0 q0 ON q0.profile_id = p.profile_id
  LEFT JOIN sequence_1 q1 ON q1.profile_id = p.profile_id
)
SELECT profile_id, (q0 OR q1) AS s0
FROM features
-- parameters
-- $1 = "Checkout Started"
-- $2 = "Order Completed"
-- $3 = "Product Added"
-- $4 = "Product Added"
-- $5 = "Order Completed"
-- $6 = 2026-02-22T00:00:00.000Z
-- $7 = "Checkout Started"
-- $8 = "Order Completed"
-- $9 = 2026-02-28T00:00:00.000Z
