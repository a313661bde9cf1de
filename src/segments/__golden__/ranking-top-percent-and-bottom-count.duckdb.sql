WITH ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, COALESCE(ep_user.profile_id, ep_anon.profile_id) AS profile_id
  FROM events e LEFT JOIN identifiers ep_user ON ep_user.namespace = 'user_id' AND ep_user.value = e.user_id
  LEFT JOIN identifiers ep_anon ON ep_anon.namespace = 'anonymous_id' AND ep_anon.value = e.anonymous_id
  WHERE e.event IN ($1)
),
event_features_0 AS (
  SELECT profile_id, sum((CASE WHEN regexp_full_match(json_extract_string(ev.properties, '$.revenue'), '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(json_extract_string(ev.properties, '$.revenue') AS DOUBLE) END)) FILTER (WHERE ev.event = $2 AND ev.timestamp > $3) AS e0
  FROM ev WHERE profile_id IS NOT NULL AND ev.event = $4 GROUP BY profile_id
),
tv_values AS (
  SELECT profile_id, json_extract_string(max(CASE WHEN name = $5 THEN value END), '$') AS v0
  FROM profile_traits GROUP BY profile_id
),
features AS (
  SELECT p.profile_id, ef0.e0, tv.v0
  FROM (SELECT DISTINCT profile_id FROM identifiers) p
  LEFT JOIN event_features_0 ef0 ON ef0.profile_id = p.profile_id
  LEFT JOIN tv_values tv ON tv.profile_id = p.profile_id
),
ranked AS (
  SELECT *, rank() OVER (ORDER BY e0 DESC NULLS LAST) AS r0, count(e0) OVER () AS n0, rank() OVER (ORDER BY (CASE WHEN regexp_full_match(v0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(v0 AS DOUBLE) END) ASC NULLS LAST) AS r1, count((CASE WHEN regexp_full_match(v0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(v0 AS DOUBLE) END)) OVER () AS n1
  FROM features
)
SELECT profile_id, (coalesce(e0 IS NOT NULL AND r0 <= ceil(20 * n0 / 100.0), false) AND coalesce((CASE WHEN regexp_full_match(v0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(v0 AS DOUBLE) END) IS NOT NULL AND r1 <= 100, false)) AS s0
FROM ranked
-- parameters
-- $1 = "Order Completed"
-- $2 = "Order Completed"
-- $3 = 2026-02-22T00:00:00.000Z
-- $4 = "Order Completed"
-- $5 = "order_count"
