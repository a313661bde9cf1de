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
  SELECT pk, sum((CASE WHEN regexp_full_match(ev.property_0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(ev.property_0 AS DOUBLE) END)) FILTER (WHERE ev.timestamp > $4) AS e0
  FROM ev WHERE ev.event_code = 0 GROUP BY pk
),
tv_values AS (
  SELECT profile_id, json_extract_string(max(value) FILTER (WHERE name = $5), '$') AS v0
  FROM profile_traits GROUP BY profile_id
),
features AS (
  SELECT p.pk, p.profile_id, ef0.e0, tv.v0
  FROM profile_keys p
  LEFT JOIN event_features_0 ef0 ON ef0.pk = p.pk
  LEFT JOIN tv_values tv ON tv.profile_id = p.profile_id
),
rank_0 AS (
  SELECT pk, rank() OVER (ORDER BY m DESC) AS r0, count(*) OVER () AS n0
  FROM (SELECT pk, e0 AS m FROM features) x WHERE m IS NOT NULL
),
rank_1 AS (
  SELECT pk, rank() OVER (ORDER BY m ASC) AS r1, count(*) OVER () AS n1
  FROM (SELECT pk, (CASE WHEN regexp_full_match(v0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(v0 AS DOUBLE) END) AS m FROM features) x WHERE m IS NOT NULL
)
SELECT profile_id, (coalesce(r0 <= ceil(20 * n0 / 100.0), false) AND coalesce(r1 <= 100, false)) AS s0
FROM features LEFT JOIN rank_0 USING (pk) LEFT JOIN rank_1 USING (pk)
-- parameters
-- $1 = "Order Completed"
-- $2 = 2026-02-22T00:00:00.000Z
-- $3 = "Order Completed"
-- $4 = 2026-02-22T00:00:00.000Z
-- $5 = "order_count"
