import { assertNever, type ComputedTrait, POPULATION_AGGREGATES } from '../core/index.js';
import {
  type Dialect,
  dropProfileScope,
  EVENT_PROFILE_ID,
  EVENT_PROFILE_JOIN,
  fillProfileScope,
  type SqlValue,
  type Store,
  scopeFilter,
} from '../store/index.js';

/**
 * One aggregate column of the computed-traits query, e.g. for
 * `{ event: 'Order Completed', aggregate: 'sum', property: 'revenue' }` on DuckDB:
 * `coalesce(sum(TRY_CAST(json_extract_string(e.properties, '$.revenue') AS DOUBLE)) FILTER (WHERE e.event = $1), 0)`.
 * For an RFM score it is the profile's base value (last time, count, sum), ranked afterwards.
 */
export function traitAggregateSql(trait: ComputedTrait, dialect: Dialect, params: SqlValue[]): string {
  let filter = '';
  if (trait.event !== undefined) {
    params.push(trait.event);
    filter = ` FILTER (WHERE e.event = $${params.length})`;
  }
  const text = trait.property ? dialect.jsonText('e.properties', trait.property.split('.')) : 'NULL';
  const number = dialect.toNumber(text);
  switch (trait.aggregate) {
    case 'count':
      return `count(*)${filter}`;
    case 'sum':
      return `coalesce(sum(${number})${filter}, 0)`;
    case 'average':
      return `avg(${number})${filter}`;
    case 'min':
      return `min(${number})${filter}`;
    case 'max':
      return `max(${number})${filter}`;
    case 'first_time':
      return `min(e.timestamp)${filter}`;
    case 'last_time':
    case 'recency_score':
      return `max(e.timestamp)${filter}`;
    case 'most_frequent':
      return `${dialect.mode(text)}${filter}`;
    case 'frequency_score':
      return `NULLIF(${trait.property ? `count(DISTINCT ${text})` : 'count(*)'}${filter}, 0)`;
    case 'monetary_score':
      return `sum(${number})${filter}`;
    default:
      return assertNever(trait.aggregate);
  }
}

/**
 * Computes every trait in one scan of the events, grouped by the profile each event belongs to;
 * `scope` limits it to the profiles listed under that id in `profile_scope`. RFM scores are quintiles of their
 * base value among every profile that has one: `ceil(5 * k / n)`, where k profiles have a base at
 * most this profile's (ties share a score) and n have one.
 */
export function computedTraitsSql(
  traits: readonly ComputedTrait[],
  dialect: Dialect,
  scope: string | undefined,
) {
  const params: SqlValue[] = [];
  const columns = traits.map((t, i) => `${traitAggregateSql(t, dialect, params)} AS t${i}`);
  const grouped = `SELECT ${EVENT_PROFILE_ID} AS profile_id, ${columns.join(', ')}
    FROM events e ${EVENT_PROFILE_JOIN}
    WHERE ${scopeFilter(EVENT_PROFILE_ID, scope)}
    GROUP BY ${EVENT_PROFILE_ID}`;
  if (!traits.some((t) => POPULATION_AGGREGATES.includes(t.aggregate))) return { sql: grouped, params };
  const ranked = traits.map((t, i) =>
    POPULATION_AGGREGATES.includes(t.aggregate)
      ? `CASE WHEN t${i} IS NOT NULL THEN ceil(5.0 * count(t${i}) OVER (ORDER BY t${i} ASC NULLS LAST) / count(t${i}) OVER ()) END AS t${i}`
      : `t${i}`,
  );
  return { sql: `SELECT profile_id, ${ranked.join(', ')} FROM (${grouped}) x`, params };
}

/** Keeps computed trait values current: for the profiles a stitching pass touched, or for all. */
export class ComputedTraits {
  constructor(private readonly store: Store) {}

  /** Recomputes the traits of `profileIds` (every profile when undefined); `only` picks traits. */
  async refresh(
    profileIds?: readonly string[],
    only?: (t: ComputedTrait) => boolean,
  ): Promise<{ profiles: number; traits: number }> {
    // RFM scores rank every profile: a scoped refresh leaves them to the next full one.
    const traits = (await this.store.traits.list()).filter(
      (t) =>
        (profileIds === undefined || !POPULATION_AGGREGATES.includes(t.aggregate)) &&
        (only === undefined || only(t)),
    );
    if (traits.length === 0 || (profileIds !== undefined && profileIds.length === 0)) {
      return { profiles: 0, traits: traits.length };
    }
    const db = this.store.db;
    const scope = profileIds === undefined ? undefined : await fillProfileScope(db, profileIds);
    const { sql, params } = computedTraitsSql(traits, db.dialect, scope);
    const rows = await db.query(sql, params).finally(() => dropProfileScope(db, scope));
    const values = rows.flatMap((r) =>
      traits.map((t, i) => ({ profileId: r.profile_id as string, name: t.name, value: r[`t${i}`] ?? null })),
    );
    await this.store.traits.replaceValues(
      traits.map((t) => t.name),
      profileIds,
      values.filter((v) => v.value !== null),
    );
    return { profiles: rows.length, traits: traits.length };
  }
}
