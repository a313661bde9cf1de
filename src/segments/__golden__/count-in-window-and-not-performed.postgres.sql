WITH ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, COALESCE(ep_user.profile_id, ep_anon.profile_id) AS pk
  FROM events e LEFT JOIN identifiers ep_user ON ep_user.namespace = 'user_id' AND ep_user.value = e.user_id
  LEFT JOIN identifiers ep_anon ON ep_anon.namespace = 'anonymous_id' AND ep_anon.value = e.anonymous_id
  WHERE e.event IN ($1, $2) AND COALESCE(ep_user.profile_id, ep_anon.profile_id) IS NOT NULL
),
event_features_0 AS (
  SELECT pk, count(*) FILTER (WHERE coalesce((lower(ev.properties #>> '{product,category}') = $3 OR (CASE WHEN ev.properties #>> '{product,category}' ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (ev.properties #>> '{product,category}')::double precision END) = 42), false) AND ev.timestamp > $4) AS e0
  FROM ev WHERE ev.event = $5 GROUP BY pk
),
event_features_1 AS (
  SELECT pk, count(*) FILTER (WHERE ev.timestamp > $6) AS e1
  FROM ev WHERE ev.event = $7 GROUP BY pk
),
features AS (
  SELECT p.pk, p.profile_id, ef0.e0, ef1.e1
  FROM (SELECT DISTINCT profile_id AS pk, profile_id FROM identifiers) p
  LEFT JOIN event_features_0 ef0 ON ef0.pk = p.pk
  LEFT JOIN event_features_1 ef1 ON ef1.pk = p.pk
)
SELECT profile_id, (coalesce(coalesce(e0, 0) >= 2, false) AND coalesce(coalesce(e1, 0) = 0, false)) AS s0
FROM features
-- parameters
-- $1 = "Order Completed"
-- $2 = "Product Viewed"
-- $3 = "shoes"
-- $4 = 2026-02-22T00:00:00.000Z
-- $5 = "Product Viewed"
-- $6 = 2026-02-22T00:00:00.000Z
-- $7 = "Order Completed"
