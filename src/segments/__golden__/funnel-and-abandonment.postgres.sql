WITH ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, COALESCE(ep_user.profile_id, ep_anon.profile_id) AS pk
  FROM events e LEFT JOIN identifiers ep_user ON ep_user.namespace = 'user_id' AND ep_user.value = e.user_id
  LEFT JOIN identifiers ep_anon ON ep_anon.namespace = 'anonymous_id' AND ep_anon.value = e.anonymous_id
  WHERE e.event IN ($1, $2, $3) AND COALESCE(ep_user.profile_id, ep_anon.profile_id) IS NOT NULL
),
sequence_0 AS (
  SELECT DISTINCT a.pk FROM ev a
  WHERE a.event = $4 AND a.timestamp > $5
    AND EXISTS (
      SELECT 1 FROM ev b
      WHERE b.pk = a.pk AND b.event = $6 AND coalesce((CASE WHEN b.properties #>> '{revenue}' ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (b.properties #>> '{revenue}')::double precision END) > 0, false)
        AND b.timestamp >= a.timestamp AND b.timestamp <= a.timestamp + INTERVAL '7200 seconds' AND b.seq <> a.seq)
),
sequence_1 AS (
  SELECT DISTINCT a.pk FROM ev a
  WHERE a.event = $8 AND a.timestamp <= $7
    AND NOT EXISTS (
      SELECT 1 FROM ev b
      WHERE b.pk = a.pk AND b.event = $9
        AND b.timestamp >= a.timestamp AND b.timestamp <= a.timestamp + INTERVAL '86400 seconds' AND b.seq <> a.seq)
),
sequences AS (
  SELECT pk, bool_or(i = 0) AS q0, bool_or(i = 1) AS q1
  FROM (SELECT pk, 0 AS i FROM sequence_0
    UNION ALL SELECT pk, 1 AS i FROM sequence_1) s GROUP BY pk
),
features AS (
  SELECT p.pk, p.profile_id, coalesce(sq.q0, false) AS q0, coalesce(sq.q1, false) AS q1
  FROM (SELECT DISTINCT profile_id AS pk, profile_id FROM identifiers) p
  LEFT JOIN sequences sq ON sq.pk = p.pk
)
SELECT profile_id, (q0 OR q1) AS s0
FROM features
-- parameters
-- $1 = "Checkout Started"
-- $2 = "Order Completed"
-- $3 = "Product Added"
-- $4 = "Product Added"
-- $5 = 2026-02-22T00:00:00.000Z
-- $6 = "Order Completed"
-- $7 = 2026-02-28T00:00:00.000Z
-- $8 = "Checkout Started"
-- $9 = "Order Completed"
