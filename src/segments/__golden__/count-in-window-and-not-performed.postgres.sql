WITH ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, COALESCE(ep_user.profile_id, ep_anon.profile_id) AS profile_id
  FROM events e LEFT JOIN identifiers ep_user ON ep_user.namespace = 'user_id' AND ep_user.value = e.user_id
  LEFT JOIN identifiers ep_anon ON ep_anon.namespace = 'anonymous_id' AND ep_anon.value = e.anonymous_id
  WHERE e.event IN ($1, $2)
),
event_features_0 AS (
  SELECT profile_id, count(*) FILTER (WHERE ev.event = $4 AND coalesce((lower(ev.properties #>> '{product,category}') = $3 OR (CASE WHEN ev.properties #>> '{product,category}' ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (ev.properties #>> '{product,category}')::double precision END) = 42), false) AND ev.timestamp > $5) AS e0
  FROM ev WHERE profile_id IS NOT NULL AND ev.event = $6 GROUP BY profile_id
),
event_features_1 AS (
  SELECT profile_id, count(*) FILTER (WHERE ev.event = $7 AND ev.timestamp > $8) AS e1
  FROM ev WHERE profile_id IS NOT NULL AND ev.event = $9 GROUP BY profile_id
),
features AS (
  SELECT p.profile_id, ef0.e0, ef1.e1
  FROM (SELECT DISTINCT profile_id FROM identifiers) p
  LEFT JOIN event_features_0 ef0 ON ef0.profile_id = p.profile_id
  LEFT JOIN event_features_1 ef1 ON ef1.profile_id = p.profile_id
)
SELECT profile_id, (coalesce(coalesce(e0, 0) >= 2, false) AND coalesce(coalesce(e1, 0) = 0, false)) AS s0
FROM features
-- parameters
-- $1 = "Order Completed"
-- $2 = "Product Viewed"
-- $3 = "shoes"
-- $4 = "Product Viewed"
-- $5 = 2026-02-22T00:00:00.000Z
-- $6 = "Product Viewed"
-- $7 = "Order Completed"
-- $8 = 2026-02-22T00:00:00.000Z
-- $9 = "Order Completed"
