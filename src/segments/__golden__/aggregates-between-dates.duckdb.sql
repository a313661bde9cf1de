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
    CASE WHEN n.code IN (0) THEN json_extract_string(e.properties, '$.revenue') END AS property_0
  FROM (SELECT * FROM events WHERE timestamp >= CASE event WHEN $1 THEN CAST($2 AS TIMESTAMPTZ) ELSE '-infinity'::TIMESTAMPTZ END) e JOIN (VALUES ($3, 0)) n(event, code) ON n.event = e.event
  LEFT JOIN user_keys ep_user ON ep_user.value = e.user_id
  LEFT JOIN anonymous_keys ep_anon ON ep_anon.value = CASE WHEN ep_user.pk IS NULL THEN e.anonymous_id END
  WHERE COALESCE(ep_user.pk, ep_anon.pk) IS NOT NULL
),
event_features_0 AS (
  SELECT pk, sum((CASE WHEN regexp_full_match(ev.property_0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(ev.property_0 AS DOUBLE) END)) FILTER (WHERE ev.timestamp >= $4 AND ev.timestamp < $5) AS e0,
    avg((CASE WHEN regexp_full_match(ev.property_0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(ev.property_0 AS DOUBLE) END)) FILTER (WHERE ev.timestamp >= $6 AND ev.timestamp < $7) AS e1,
    min((CASE WHEN regexp_full_match(ev.property_0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(ev.property_0 AS DOUBLE) END)) FILTER (WHERE ev.timestamp >= $8 AND ev.timestamp < $9) AS e2,
    max((CASE WHEN regexp_full_match(ev.property_0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(ev.property_0 AS DOUBLE) END)) FILTER (WHERE ev.timestamp >= $10 AND ev.timestamp < $11) AS e3,
    count(DISTINCT ev.property_0) FILTER (WHERE ev.timestamp >= $12 AND ev.timestamp < $13) AS e4
  FROM ev WHERE ev.event_code = 0 GROUP BY pk
),
features AS (
  SELECT p.pk, p.profile_id, ef0.e0, ef0.e1, ef0.e2, ef0.e3, ef0.e4
  FROM profile_keys p
  LEFT JOIN event_features_0 ef0 ON ef0.pk = p.pk
)
SELECT profile_id, (coalesce(coalesce(e0, 0) BETWEEN 10 AND 99.5, false) OR coalesce(e1 BETWEEN 10 AND 99.5, false) OR coalesce(e2 BETWEEN 10 AND 99.5, false) OR coalesce(e3 BETWEEN 10 AND 99.5, false) OR coalesce(coalesce(e4, 0) BETWEEN 10 AND 99.5, false)) AS s0
FROM features
-- parameters
-- $1 = "Order Completed"
-- $2 = 2026-01-01T00:00:00.000Z
-- $3 = "Order Completed"
-- $4 = 2026-01-01T00:00:00.000Z
-- $5 = 2026-02-01T00:00:00.000Z
-- $6 = 2026-01-01T00:00:00.000Z
-- $7 = 2026-02-01T00:00:00.000Z
-- $8 = 2026-01-01T00:00:00.000Z
-- $9 = 2026-02-01T00:00:00.000Z
-- $10 = 2026-01-01T00:00:00.000Z
-- $11 = 2026-02-01T00:00:00.000Z
-- $12 = 2026-01-01T00:00:00.000Z
-- $13 = 2026-02-01T00:00:00.000Z
