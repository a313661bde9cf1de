WITH av_values AS (
  SELECT profile_id, ((max(value) FILTER (WHERE name = $1))::jsonb #>> '{}') AS v0,
    ((max(value) FILTER (WHERE name = $2))::jsonb #>> '{}') AS v1,
    ((max(value) FILTER (WHERE name = $3))::jsonb #>> '{}') AS v2,
    ((max(value) FILTER (WHERE name = $4))::jsonb #>> '{}') AS v3,
    ((max(value) FILTER (WHERE name = $5))::jsonb #>> '{}') AS v6,
    ((max(value) FILTER (WHERE name = $6))::jsonb #>> '{}') AS v7
  FROM profile_attributes GROUP BY profile_id
),
tv_values AS (
  SELECT profile_id, ((max(value) FILTER (WHERE name = $7))::jsonb #>> '{}') AS v4,
    ((max(value) FILTER (WHERE name = $8))::jsonb #>> '{}') AS v5
  FROM profile_traits GROUP BY profile_id
),
features AS (
  SELECT p.pk, p.profile_id, av.v0, av.v1, av.v2, av.v3, av.v6, av.v7, tv.v4, tv.v5
  FROM (SELECT DISTINCT profile_id AS pk, profile_id FROM identifiers) p
  LEFT JOIN av_values av ON av.profile_id = p.profile_id
  LEFT JOIN tv_values tv ON tv.profile_id = p.profile_id
)
SELECT profile_id, (coalesce(NOT (lower(v0) = $9), false) AND coalesce(strpos(lower(v1), $10) > 0, false) AND coalesce(starts_with(lower(v2), $11), false) AND coalesce((v3 IS NULL OR v3 = ''), false) AND coalesce((CASE WHEN v4 ~ '^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$' THEN (v4)::double precision END) > 100, false) AND coalesce(((CASE WHEN v5 ~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$' THEN sluice_timestamptz(v5) END) > $12 AND (CASE WHEN v5 ~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$' THEN sluice_timestamptz(v5) END) <= $13), false) AND coalesce((CASE WHEN v6 ~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$' THEN sluice_timestamptz(v6) END) < $14, false) AND (NOT coalesce(lower(v7) = $15, false))) AS s0
FROM features
-- parameters
-- $1 = "country"
-- $2 = "email"
-- $3 = "city"
-- $4 = "phone"
-- $5 = "birthday"
-- $6 = "vip"
-- $7 = "lifetime_revenue"
-- $8 = "first_purchase_at"
-- $9 = "us"
-- $10 = "@example"
-- $11 = "lis"
-- $12 = 2026-01-30T00:00:00.000Z
-- $13 = 2026-03-01T00:00:00.000Z
-- $14 = 2000-01-01T00:00:00.000Z
-- $15 = "true"
