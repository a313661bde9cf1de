WITH ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, COALESCE(ep_user.profile_id, ep_anon.profile_id) AS pk
  FROM events e LEFT JOIN identifiers ep_user ON ep_user.namespace = 'user_id' AND ep_user.value = e.user_id
  LEFT JOIN identifiers ep_anon ON ep_anon.namespace = 'anonymous_id' AND ep_anon.value = e.anonymous_id
  WHERE e.event IN ($1) AND COALESCE(ep_user.profile_id, ep_anon.profile_id) IS NOT NULL
),
event_features_0 AS (
  SELECT pk, sum((CASE WHEN ev.properties #>> '{revenue}' ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (ev.properties #>> '{revenue}')::double precision END)) FILTER (WHERE ev.timestamp >= $2 AND ev.timestamp < $3) AS e0,
    avg((CASE WHEN ev.properties #>> '{revenue}' ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (ev.properties #>> '{revenue}')::double precision END)) FILTER (WHERE ev.timestamp >= $4 AND ev.timestamp < $5) AS e1,
    min((CASE WHEN ev.properties #>> '{revenue}' ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (ev.properties #>> '{revenue}')::double precision END)) FILTER (WHERE ev.timestamp >= $6 AND ev.timestamp < $7) AS e2,
    max((CASE WHEN ev.properties #>> '{revenue}' ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (ev.properties #>> '{revenue}')::double precision END)) FILTER (WHERE ev.timestamp >= $8 AND ev.timestamp < $9) AS e3,
    count(DISTINCT ev.properties #>> '{revenue}') FILTER (WHERE ev.timestamp >= $10 AND ev.timestamp < $11) AS e4
  FROM ev WHERE ev.event = $12 GROUP BY pk
),
features AS (
  SELECT p.pk, p.profile_id, ef0.e0, ef0.e1, ef0.e2, ef0.e3, ef0.e4
  FROM (SELECT DISTINCT profile_id AS pk, profile_id FROM identifiers) p
  LEFT JOIN event_features_0 ef0 ON ef0.pk = p.pk
)
SELECT profile_id, (coalesce(coalesce(e0, 0) BETWEEN 10 AND 99.5, false) OR coalesce(e1 BETWEEN 10 AND 99.5, false) OR coalesce(e2 BETWEEN 10 AND 99.5, false) OR coalesce(e3 BETWEEN 10 AND 99.5, false) OR coalesce(coalesce(e4, 0) BETWEEN 10 AND 99.5, false)) AS s0
FROM features
-- parameters
-- $1 = "Order Completed"
-- $2 = 2026-01-01T00:00:00.000Z
-- $3 = 2026-02-01T00:00:00.000Z
-- $4 = 2026-01-01T00:00:00.000Z
-- $5 = 2026-02-01T00:00:00.000Z
-- $6 = 2026-01-01T00:00:00.000Z
-- $7 = 2026-02-01T00:00:00.000Z
-- $8 = 2026-01-01T00:00:00.000Z
-- $9 = 2026-02-01T00:00:00.000Z
-- $10 = 2026-01-01T00:00:00.000Z
-- $11 = 2026-02-01T00:00:00.000Z
-- $12 = "Order Completed"
