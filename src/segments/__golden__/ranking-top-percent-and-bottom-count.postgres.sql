WITH ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, COALESCE(ep_user.profile_id, ep_anon.profile_id) AS pk
  FROM events e LEFT JOIN identifiers ep_user ON ep_user.namespace = 'user_id' AND ep_user.value = e.user_id
  LEFT JOIN identifiers ep_anon ON ep_anon.namespace = 'anonymous_id' AND ep_anon.value = e.anonymous_id
  WHERE e.event IN ($1) AND COALESCE(ep_user.profile_id, ep_anon.profile_id) IS NOT NULL
),
event_features_0 AS (
  SELECT pk, sum((CASE WHEN ev.properties #>> '{revenue}' ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (ev.properties #>> '{revenue}')::double precision END)) FILTER (WHERE ev.timestamp > $2) AS e0
  FROM ev WHERE ev.event = $3 GROUP BY pk
),
tv_values AS (
  SELECT profile_id, ((max(value) FILTER (WHERE name = $4))::jsonb #>> '{}') AS v0
  FROM profile_traits GROUP BY profile_id
),
features AS (
  SELECT p.pk, p.profile_id, ef0.e0, tv.v0
  FROM (SELECT DISTINCT profile_id AS pk, profile_id FROM identifiers) p
  LEFT JOIN event_features_0 ef0 ON ef0.pk = p.pk
  LEFT JOIN tv_values tv ON tv.profile_id = p.profile_id
),
rank_0 AS (
  SELECT pk, rank() OVER (ORDER BY m DESC) AS r0, count(*) OVER () AS n0
  FROM (SELECT pk, e0 AS m FROM features) x WHERE m IS NOT NULL
),
rank_1 AS (
  SELECT pk, rank() OVER (ORDER BY m ASC) AS r1, count(*) OVER () AS n1
  FROM (SELECT pk, (CASE WHEN v0 ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (v0)::double precision END) AS m FROM features) x WHERE m IS NOT NULL
)
SELECT profile_id, (coalesce(r0 <= ceil(20 * n0 / 100.0), false) AND coalesce(r1 <= 100, false)) AS s0
FROM features LEFT JOIN rank_0 USING (pk) LEFT JOIN rank_1 USING (pk)
-- parameters
-- $1 = "Order Completed"
-- $2 = 2026-02-22T00:00:00.000Z
-- $3 = "Order Completed"
-- $4 = "order_count"
