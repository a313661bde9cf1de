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
    CASE WHEN n.code IN (1) THEN json_extract_string(e.properties, '$.product.category') END AS property_0
  FROM (SELECT * FROM events WHERE timestamp >= CASE event WHEN $1 THEN CAST($2 AS TIMESTAMPTZ) WHEN $3 THEN CAST($4 AS TIMESTAMPTZ) ELSE '-infinity'::TIMESTAMPTZ END) e JOIN (VALUES ($5, 0), ($6, 1)) n(event, code) ON n.event = e.event
  LEFT JOIN user_keys ep_user ON ep_user.value = e.user_id
  LEFT JOIN anonymous_keys ep_anon ON ep_anon.value = CASE WHEN ep_user.pk IS NULL THEN e.anonymous_id END
  WHERE COALESCE(ep_user.pk, ep_anon.pk) IS NOT NULL
),
event_features_0 AS (
  SELECT pk, count(*) FILTER (WHERE coalesce((lower(ev.property_0) = $7 OR (CASE WHEN regexp_full_match(ev.property_0, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(ev.property_0 AS DOUBLE) END) = 42), false) AND ev.timestamp > $8) AS e0
  FROM ev WHERE ev.event_code = 1 GROUP BY pk
),
event_features_1 AS (
  SELECT pk, count(*) FILTER (WHERE ev.timestamp > $9) AS e1
  FROM ev WHERE ev.event_code = 0 GROUP BY pk
),
features AS (
  SELECT p.pk, p.profile_id, ef0.e0, ef1.e1
  FROM profile_keys p
  LEFT JOIN event_features_0 ef0 ON ef0.pk = p.pk
  LEFT JOIN event_features_1 ef1 ON ef1.pk = p.pk
)
SELECT profile_id, (coalesce(coalesce(e0, 0) >= 2, false) AND coalesce(coalesce(e1, 0) = 0, false)) AS s0
FROM features
-- parameters
-- $1 = "Product Viewed"
-- $2 = 2026-02-22T00:00:00.000Z
-- $3 = "Order Completed"
-- $4 = 2026-02-22T00:00:00.000Z
-- $5 = "Order Completed"
-- $6 = "Product Viewed"
-- $7 = "shoes"
-- $8 = 2026-02-22T00:00:00.000Z
-- $9 = 2026-02-22T00:00:00.000Z
