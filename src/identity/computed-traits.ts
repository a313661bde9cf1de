import { assertNever, type ComputedTrait } from '../core/index.js';
import {
  type Dialect,
  EVENT_PROFILE_ID,
  EVENT_PROFILE_JOIN,
  fillProfileScope,
  scopeFilter,
  type SqlValue,
  type Store,
} from '../store/index.js';

/**
 * One aggregate column of the computed-traits query, e.g. for
 * `{ event: 'Order Completed', aggregate: 'sum', property: 'revenue' }` on DuckDB:
 * `coalesce(sum(TRY_CAST(json_extract_string(e.properties, '$.revenue') AS DOUBLE)) FILTER (WHERE e.event = $1), 0)`.
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
      return `max(e.timestamp)${filter}`;
    case 'most_frequent':
      return `${dialect.mode(text)}${filter}`;
    default:
      return assertNever(trait.aggregate);
  }
}

/**
 * Computes every trait in one scan of the events, grouped by the profile each event belongs to;
 * `scoped` limits it to the profiles listed in `profile_scope`.
 */
export function computedTraitsSql(traits: readonly ComputedTrait[], dialect: Dialect, scoped: boolean) {
  const params: SqlValue[] = [];
  const columns = traits.map((t, i) => `${traitAggregateSql(t, dialect, params)} AS t${i}`);
  const sql = `SELECT ${EVENT_PROFILE_ID} AS profile_id, ${columns.join(', ')}
    FROM events e ${EVENT_PROFILE_JOIN}
    WHERE ${scopeFilter(EVENT_PROFILE_ID, scoped)}
    GROUP BY ${EVENT_PROFILE_ID}`;
  return { sql, params };
}

/** Keeps computed trait values current: for the profiles a stitching pass touched, or for all. */
export class ComputedTraits {
  constructor(private readonly store: Store) {}

  /** Recomputes the traits of `profileIds` (every profile when undefined). */
  async refresh(profileIds?: readonly string[]): Promise<{ profiles: number; traits: number }> {
    const traits = await this.store.traits.list();
    if (traits.length === 0 || (profileIds !== undefined && profileIds.length === 0)) {
      return { profiles: 0, traits: traits.length };
    }
    const db = this.store.db;
    if (profileIds !== undefined) {
      await fillProfileScope(db, profileIds);
    }
    const { sql, params } = computedTraitsSql(traits, db.dialect, profileIds !== undefined);
    const rows = await db.query(sql, params);
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
