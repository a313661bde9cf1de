WITH profile_keys AS MATERIALIZED (
  SELECT profile_id, CAST(row_number() OVER () AS INTEGER) AS pk FROM (SELECT DISTINCT profile_id FROM identifiers) d
),
user_keys AS MATERIALIZED (
  SELECT i.value, k.pk FROM identifiers i JOIN profile_keys k ON k.profile_id = i.profile_id WHERE i.namespace = 'user_id'
),
anonymous_keys AS MATERIALIZED (
  SELECT i.value, k.pk FROM identifiers i JOIN profile_keys k ON k.profile_id = i.profile_id WHERE i.namespace = 'anonymous_id'
),
ev AS MATERIALIZED (
  SELECT COALESCE(ep_user.pk, ep_anon.pk) AS pk, CAST(n.code AS SMALLINT) AS event_code, e.timestamp,
    CASE WHEN n.code IN (1) THEN json_extract_string(e.properties, '$.revenue') END AS property_0
  FROM (SELECT * FROM events WHERE timestamp >= CASE event WHEN $1 THEN CAST($2 AS TIMESTAMPTZ) ELSE '-infinity'::TIMESTAMPTZ END) e JOIN (VALUES ($3, 0), ($4, 1), ($5, 2)) n(event, code) ON n.event = e.event
  LEFT JOIN user_keys ep_user ON ep_user.value = e.user_id
  LEFT JOIN anonymous_keys ep_anon ON ep_anon.value = CASE WHEN ep_user.pk IS NULL THEN e.anonymous_id END
  WHERE COALESCE(ep_user.pk, ep_anon.pk) IS NOT NULL
),
ev_1 AS MATERIALIZED (SELECT * FROM ev WHERE event_code = 1),
sequence_0 AS (
  SELECT DISTINCT x.pk FROM (
    SELECT a.pk, a.timestamp, b.timestamp AS next_at
    FROM (SELECT ev.pk, ev.timestamp FROM ev WHERE ev.event_code = 2 AND ev.timestamp > $6) a
    ASOF JOIN (SELECT ev.pk, ev.timestamp FROM ev_1 ev WHERE ev.event_code = 1 AND coalesce((CASE WHEN regexp_full_match(ev.property_0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(ev.property_0 AS DOUBLE) END) > 0, false)) b
      ON b.pk = a.pk AND b.timestamp >= a.timestamp
  ) x
  WHERE x.next_at <= x.timestamp + INTERVAL '7200 seconds'
),
sequence_1 AS (
  SELECT DISTINCT x.pk FROM (
    SELECT a.pk, a.timestamp, b.timestamp AS next_at
    FROM (SELECT ev.pk, ev.timestamp FROM ev WHERE ev.event_code = 0 AND ev.timestamp <= $7) a
    ASOF LEFT JOIN (SELECT ev.pk, ev.timestamp FROM ev_1 ev WHERE ev.event_code = 1) b
      ON b.pk = a.pk AND b.timestamp >= a.timestamp
  ) x
  WHERE (x.next_at IS NULL OR x.next_at > x.timestamp + INTERVAL '86400 seconds')
),
sequences AS (
  SELECT pk, bool_or(i = 0) AS q0, bool_or(i = 1) AS q1
  FROM (SELECT pk, 0 AS i FROM sequence_0
    UNION ALL SELECT pk, 1 AS i FROM sequence_1) s GROUP BY pk
),
features AS (
  SELECT p.pk, p.profile_id, coalesce(sq.q0, false) AS q0, coalesce(sq.q1, false) AS q1
  FROM profile_keys p
  LEFT JOIN sequences sq ON sq.pk = p.pk
)
SELECT profile_id, (q0 OR q1) AS s0
FROM features
-- parameters
-- $1 = "Product Added"
-- $2 = 2026-02-22T00:00:00.000Z
-- $3 = "Checkout Started"
-- $4 = "Order Completed"
-- $5 = "Product Added"
-- $6 = 2026-02-22T00:00:00.000Z
-- $7 = 2026-02-28T00:00:00.000Z
