WITH profile_keys AS MATERIALIZED (
  SELECT profile_id, CAST(row_number() OVER () AS INTEGER) AS pk FROM (SELECT DISTINCT profile_id FROM identifiers) d
),
av_values AS (
  SELECT profile_id, json_extract_string(max(value) FILTER (WHERE name = $1), '$') AS v0,
    json_extract_string(max(value) FILTER (WHERE name = $2), '$') AS v1,
    json_extract_string(max(value) FILTER (WHERE name = $3), '$') AS v2,
    json_extract_string(max(value) FILTER (WHERE name = $4), '$') AS v3,
    json_extract_string(max(value) FILTER (WHERE name = $5), '$') AS v6,
    json_extract_string(max(value) FILTER (WHERE name = $6), '$') AS v7
  FROM profile_attributes GROUP BY profile_id
),
tv_values AS (
  SELECT profile_id, json_extract_string(max(value) FILTER (WHERE name = $7), '$') AS v4,
    json_extract_string(max(value) FILTER (WHERE name = $8), '$') AS v5
  FROM profile_traits GROUP BY profile_id
),
features AS (
  SELECT p.pk, p.profile_id, av.v0, av.v1, av.v2, av.v3, av.v6, av.v7, tv.v4, tv.v5
  FROM profile_keys p
  LEFT JOIN av_values av ON av.profile_id = p.profile_id
  LEFT JOIN tv_values tv ON tv.profile_id = p.profile_id
)
SELECT profile_id, (coalesce(NOT (lower(v0) = $9), false) AND coalesce(strpos(lower(v1), $10) > 0, false) AND coalesce(starts_with(lower(v2), $11), false) AND coalesce((v3 IS NULL OR v3 = ''), false) AND coalesce((CASE WHEN regexp_full_match(v4, '\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*') THEN TRY_CAST(v4 AS DOUBLE) END) > 100, false) AND coalesce(((CASE WHEN regexp_full_match(v5, '\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?') THEN TRY_CAST(v5 AS TIMESTAMPTZ) END) > $12 AND (CASE WHEN regexp_full_match(v5, '\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?') THEN TRY_CAST(v5 AS TIMESTAMPTZ) END) <= $13), false) AND coalesce((CASE WHEN regexp_full_match(v6, '\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?') THEN TRY_CAST(v6 AS TIMESTAMPTZ) END) < $14, false) AND (NOT coalesce(lower(v7) = $15, false))) AS s0
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
