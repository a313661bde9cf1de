import type { Dialect } from './dialect.js';
import { EVENT_PROFILE_ID, eventProfileJoin } from './event-profiles.js';

/** One read-only view of the workspace that orchestration queries may read. */
export interface WorkspaceView {
  name: string;
  description: string;
  /** The view's query; `table` qualifies a stored table (the views live in a schema of their own). */
  sql(d: Dialect, table: (name: string) => string): string;
}

/** JSON objects built from name/value rows, where the engines spell it differently. */
const JSON_OBJECT: Record<Dialect['name'], { agg(key: string, jsonText: string): string; empty: string }> = {
  duckdb: { agg: (k, v) => `json_group_object(${k}, CAST(${v} AS JSON))`, empty: `CAST('{}' AS JSON)` },
  postgres: { agg: (k, v) => `jsonb_object_agg(${k}, CAST(${v} AS JSONB))`, empty: `CAST('{}' AS JSONB)` },
};

/**
 * What an orchestration query can see: these views and nothing else, on both engines. Columns
 * holding JSON (`attributes`, `traits`, `properties`, `context`) are read the same way on both:
 * `attributes->>'email'`, `properties->>'revenue'`.
 *
 * Stored tables are never visible: not the ones holding secrets (`destinations`, `api_keys`), nor
 * the internal ones; a view is the one place that decides which columns of a table go out.
 */
export const WORKSPACE_VIEWS: readonly WorkspaceView[] = [
  {
    name: 'profiles',
    description:
      'One row per profile: profile_id, first_seen_at, attributes (JSON object of the unified attributes) and traits (JSON object of the computed traits)',
    sql: (d, table) => {
      const json = JSON_OBJECT[d.name];
      const valuesOf = (source: string) =>
        `SELECT profile_id, ${json.agg('name', 'value')} AS doc FROM ${table(source)} GROUP BY profile_id`;
      return `SELECT p.profile_id, p.first_seen_at,
  COALESCE(a.doc, ${json.empty}) AS attributes,
  COALESCE(t.doc, ${json.empty}) AS traits
FROM (SELECT profile_id, min(first_seen_at) AS first_seen_at FROM ${table('identifiers')} GROUP BY profile_id) p
LEFT JOIN (${valuesOf('profile_attributes')}) a ON a.profile_id = p.profile_id
LEFT JOIN (${valuesOf('profile_traits')}) t ON t.profile_id = p.profile_id`;
    },
  },
  {
    name: 'identifiers',
    description:
      'One row per identifier: profile_id, namespace (email, phone, user_id, ...), value, shared, first_seen_at, source_id (where it was first seen)',
    sql: (_d, table) =>
      `SELECT profile_id, namespace, value, shared, first_seen_at, first_source_id AS source_id FROM ${table('identifiers')}`,
  },
  {
    name: 'events',
    description:
      'One row per event: message_id, profile_id (of its user id, else its anonymous id), source_id, type, event, user_id, anonymous_id, timestamp, received_at, properties, traits, context',
    sql: (_d, table) => `SELECT e.message_id, ${EVENT_PROFILE_ID} AS profile_id, e.source_id, e.type, e.event,
  e.user_id, e.anonymous_id, e.timestamp, e.received_at, e.properties, e.traits, e.context
FROM ${table('events')} e
${eventProfileJoin(table('identifiers'))}`,
  },
  {
    name: 'memberships',
    description: 'The current members of every segment: segment_id, segment_name, profile_id, since',
    sql: (_d, table) => `SELECT m.segment_id, s.name AS segment_name, m.profile_id, m.since
FROM ${table('segment_members')} m JOIN ${table('segments')} s ON s.id = m.segment_id`,
  },
  {
    name: 'campaign_runs',
    description:
      'One row per campaign run: run_id, campaign_id, campaign_name, status, due_at, started_at, finished_at, counts (JSON: qualified, excluded, newlyQualified, per sub-audience and group), error',
    sql: (
      _d,
      table,
    ) => `SELECT r.id AS run_id, r.campaign_id, c.name AS campaign_name, r.status, r.due_at, r.started_at,
  r.finished_at, r.counts, r.error
FROM ${table('campaign_runs')} r LEFT JOIN ${table('campaigns')} c ON c.id = r.campaign_id`,
  },
  {
    name: 'campaign_members',
    description:
      'What each campaign run did with each newly qualified profile: run_id, campaign_id, profile_id, sub_audience, treatment (control for the control group), destination_id, outcome (sent, control, suppressed, held, unmatched), reason',
    sql: (
      _d,
      table,
    ) => `SELECT run_id, campaign_id, profile_id, sub_audience, treatment, destination_id, outcome, reason
FROM ${table('campaign_members')}`,
  },
];
