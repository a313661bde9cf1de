import {
  assertNever,
  durationMs,
  type NumberTest,
  type PropertyFilter,
  type ValueTest,
  type Window,
} from '../core/index.js';
import { type Dialect, EVENT_PROFILE_ID, EVENT_PROFILE_JOIN, type SqlValue } from '../store/index.js';
import {
  type EventFeature,
  eventNamesOf,
  type PlanNode,
  type RankFeature,
  type SegmentPlan,
  type SequenceFeature,
  zeroWhenNone,
} from './segment-plan.js';
import { windowStart } from './time-window.js';

/** A statement and its parameters. */
export interface CompiledSql {
  sql: string;
  params: SqlValue[];
}

/** An ISO-8601 date or time with an optional zone, the only text read as a time. */
const ISO_TIME_SQL = '\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?(Z|[+-]\\d{2}(:?\\d{2})?)?';

/** Collects parameters and hands out their placeholders. */
class Params {
  readonly values: SqlValue[] = [];
  add(value: SqlValue): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * Compiles a segment plan to one statement that computes every feature in shared scans (one pass
 * over the events, one over the attributes) and answers, per profile, one boolean per segment:
 * `SELECT profile_id, <segment 0> AS s0, <segment 1> AS s1 FROM ...`. Written once; dialects
 * override only what differs.
 */
export class DefaultSegmentCompiler {
  constructor(protected readonly dialect: Dialect) {}

  /** Text of a stored JSON scalar (attribute and trait values are stored as JSON text). */
  protected jsonScalarText(expr: string): string {
    return `json_extract_string(${expr}, '$')`;
  }

  /** Text to a time, NULL when it is not an ISO-8601 time (as streaming's `timeOf` reads it). */
  protected toTimestamp(expr: string): string {
    return `(CASE WHEN regexp_full_match(${expr}, '${ISO_TIME_SQL}') THEN TRY_CAST(${expr} AS TIMESTAMPTZ) END)`;
  }

  /**
   * `now` is the instant the segments are evaluated at.
   * @example compile(plan, now) // WITH ev AS (...), event_features AS (...) SELECT profile_id, ... AS s0 FROM ranked
   */
  compile(plan: SegmentPlan, now: Date): CompiledSql {
    const p = new Params();
    const ctes: string[] = [];
    const names = eventNamesOf(plan);
    const columns: string[] = [];
    const joins: string[] = [];
    if (names.length > 0) {
      ctes.push(`ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, ${EVENT_PROFILE_ID} AS profile_id
  FROM events e ${EVENT_PROFILE_JOIN}
  WHERE e.event IN (${names.map((n) => p.add(n)).join(', ')})
)`);
    }
    // One scan per event name: each aggregate reads only its own event's rows, instead of every
    // aggregate's filter being tested on every row of every name.
    const byName = new Map<string, number[]>();
    for (const [i, f] of plan.events.entries()) byName.set(f.event, [...(byName.get(f.event) ?? []), i]);
    [...byName].forEach(([name, features], k) => {
      const aggregates = features.map((i) => `${this.eventAggregate(plan.events[i]!, p, now)} AS e${i}`);
      ctes.push(`event_features_${k} AS (
  SELECT profile_id, ${aggregates.join(',\n    ')}
  FROM ev WHERE profile_id IS NOT NULL AND ev.event = ${p.add(name)} GROUP BY profile_id
)`);
      joins.push(`LEFT JOIN event_features_${k} ef${k} ON ef${k}.profile_id = p.profile_id`);
      columns.push(...features.map((i) => `ef${k}.e${i}`));
    });
    for (const source of ['attribute', 'trait'] as const) {
      const wanted = plan.values.map((v, i) => ({ ...v, i })).filter((v) => v.source === source);
      if (wanted.length === 0) continue;
      const table = source === 'attribute' ? 'profile_attributes' : 'profile_traits';
      const alias = source === 'attribute' ? 'av' : 'tv';
      const pivots = wanted.map(
        (v) => `${this.jsonScalarText(`max(CASE WHEN name = ${p.add(v.name)} THEN value END)`)} AS v${v.i}`,
      );
      ctes.push(`${alias}_values AS (
  SELECT profile_id, ${pivots.join(',\n    ')}
  FROM ${table} GROUP BY profile_id
)`);
      joins.push(`LEFT JOIN ${alias}_values ${alias} ON ${alias}.profile_id = p.profile_id`);
      columns.push(...wanted.map((v) => `${alias}.v${v.i}`));
    }
    plan.sequences.forEach((s, i) => {
      ctes.push(`sequence_${i} AS (\n${this.sequence(s, p, now)}\n)`);
      joins.push(`LEFT JOIN sequence_${i} q${i} ON q${i}.profile_id = p.profile_id`);
      columns.push(`(q${i}.profile_id IS NOT NULL) AS q${i}`);
    });
    ctes.push(`features AS (
  SELECT p.profile_id${columns.map((c) => `, ${c}`).join('')}
  FROM (SELECT DISTINCT profile_id FROM identifiers) p
  ${joins.join('\n  ')}
)`);
    let from = 'features';
    if (plan.ranks.length > 0) {
      const windows = plan.ranks.flatMap((r, i) => {
        const m = this.metric(r, plan);
        const order = r.direction === 'top' ? 'DESC' : 'ASC';
        return [`rank() OVER (ORDER BY ${m} ${order} NULLS LAST) AS r${i}`, `count(${m}) OVER () AS n${i}`];
      });
      ctes.push(`ranked AS (\n  SELECT *, ${windows.join(', ')}\n  FROM features\n)`);
      from = 'ranked';
    }
    const selects = plan.segments.map((s, i) => `${this.node(s.node, plan, p, now)} AS s${i}`);
    const sql = `WITH ${ctes.join(',\n')}\nSELECT profile_id, ${selects.join(',\n  ')}\nFROM ${from}`;
    return { sql, params: p.values };
  }

  private node(n: PlanNode, plan: SegmentPlan, p: Params, now: Date): string {
    switch (n.kind) {
      case 'all':
      case 'any':
        return `(${n.nodes.map((x) => this.node(x, plan, p, now)).join(n.kind === 'all' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT ${this.node(n.node, plan, p, now)})`;
      case 'value': {
        return `coalesce(${this.valueTest(`v${n.feature}`, n.test, p, now)}, false)`;
      }
      case 'measure': {
        const f = plan.events[n.feature]!;
        const column = zeroWhenNone(f.fn) ? `coalesce(e${n.feature}, 0)` : `e${n.feature}`;
        return `coalesce(${numberTest(column, n.test)}, false)`;
      }
      case 'sequence':
        return `q${n.feature}`;
      case 'rank': {
        const r = plan.ranks[n.feature]!;
        const limit = r.percent !== undefined ? `ceil(${r.percent} * n${n.feature} / 100.0)` : `${r.count}`;
        return `coalesce(${this.metric(r, plan)} IS NOT NULL AND r${n.feature} <= ${limit}, false)`;
      }
      default:
        return assertNever(n);
    }
  }

  /** What a ranking orders by; NULL for profiles outside it (no matching event, no value). */
  private metric(r: RankFeature, plan: SegmentPlan): string {
    if (r.metric.kind === 'value') return this.dialect.toNumber(`v${r.metric.feature}`);
    const fn = plan.events[r.metric.feature]!.fn;
    return fn === 'count' || fn === 'distinct_count'
      ? `NULLIF(e${r.metric.feature}, 0)`
      : `e${r.metric.feature}`;
  }

  private eventAggregate(f: EventFeature, p: Params, now: Date): string {
    const filter = ` FILTER (WHERE ${this.eventMatch('ev', f.event, f.where, p, now)}${this.window('ev', f.window, p, now)})`;
    const text = f.property ? this.dialect.jsonText('ev.properties', f.property.split('.')) : 'NULL';
    switch (f.fn) {
      case 'count':
        return `count(*)${filter}`;
      case 'distinct_count':
        return `count(DISTINCT ${text})${filter}`;
      case 'sum':
        return `sum(${this.dialect.toNumber(text)})${filter}`;
      case 'average':
        return `avg(${this.dialect.toNumber(text)})${filter}`;
      case 'min':
      case 'max':
        return `${f.fn}(${this.dialect.toNumber(text)})${filter}`;
      default:
        return assertNever(f.fn);
    }
  }

  /**
   * The profiles with an A event (in the window) that a B event follows within T (or, for
   * abandonment, that none does and T has passed). One scan of the A and B events: for each row,
   * the earliest B at or after it other than itself, by a window over the profile's events.
   */
  protected sequence(s: SequenceFeature, p: Params, now: Date): string {
    const within = `INTERVAL '${s.withinMs / 1000} seconds'`;
    const isFirst = this.eventMatch('ev', s.first.event, s.first.where ?? [], p, now);
    const isNext = this.eventMatch('ev', s.next.event, s.next.where ?? [], p, now);
    const inWindow = this.window('ev', s.window, p, now);
    const elapsed = s.followed ? '' : ` AND x.timestamp <= ${p.add(new Date(now.getTime() - s.withinMs))}`;
    const test = s.followed
      ? `x.next_at <= x.timestamp + ${within}`
      : `(x.next_at IS NULL OR x.next_at > x.timestamp + ${within})`;
    return `  SELECT DISTINCT x.profile_id FROM (
    SELECT ev.profile_id, ev.timestamp, (${isFirst}${inWindow}) AS is_first,
      min(CASE WHEN ${isNext} THEN ev.timestamp END) OVER (
        PARTITION BY ev.profile_id ORDER BY ev.timestamp
        RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) AS next_at
    FROM ev WHERE ev.profile_id IS NOT NULL AND ((${isFirst}) OR (${isNext}))
  ) x
  WHERE x.is_first${elapsed} AND ${test}`;
  }

  protected eventMatch(
    alias: string,
    event: string,
    where: readonly PropertyFilter[],
    p: Params,
    now: Date,
  ): string {
    const filters = where.map(
      (f) =>
        ` AND coalesce(${this.valueTest(this.dialect.jsonText(`${alias}.properties`, f.property.split('.')), f.test, p, now)}, false)`,
    );
    return `${alias}.event = ${p.add(event)}${filters.join('')}`;
  }

  protected window(alias: string, w: Window, p: Params, now: Date): string {
    switch (w.kind) {
      case 'ever':
        return '';
      case 'last':
        return ` AND ${alias}.timestamp > ${p.add(new Date(windowStart(w, now.getTime())))}`;
      case 'between':
        return ` AND ${alias}.timestamp >= ${p.add(new Date(w.from))} AND ${alias}.timestamp < ${p.add(new Date(w.to))}`;
      default:
        return assertNever(w);
    }
  }

  /** A test of the text `x`; NULL (unknown) when `x` is NULL, except for `exists` and `is_empty`. */
  private valueTest(x: string, t: ValueTest, p: Params, now: Date): string {
    const num = () => this.dialect.toNumber(x);
    const time = () => this.toTimestamp(x);
    const equals = (v: string | number | boolean) =>
      typeof v === 'number' ? `${num()} = ${v}` : `lower(${x}) = ${p.add(String(v).toLowerCase())}`;
    switch (t.operator) {
      case 'equals':
        return equals(t.value);
      case 'not_equals':
        return `NOT (${equals(t.value)})`;
      case 'in':
        return `(${t.values.map(equals).join(' OR ')})`;
      case 'contains':
        return `strpos(lower(${x}), ${p.add(t.value.toLowerCase())}) > 0`;
      case 'starts_with':
        return `starts_with(lower(${x}), ${p.add(t.value.toLowerCase())})`;
      case 'greater_than':
        return `${num()} > ${t.value}`;
      case 'less_than':
        return `${num()} < ${t.value}`;
      case 'between':
        return `${num()} BETWEEN ${t.min} AND ${t.max}`;
      case 'exists':
        return `(${x} IS NOT NULL AND ${x} <> '')`;
      case 'is_empty':
        return `(${x} IS NULL OR ${x} = '')`;
      case 'before':
        return `${time()} < ${p.add(new Date(t.value))}`;
      case 'after':
        return `${time()} > ${p.add(new Date(t.value))}`;
      case 'within_last': {
        const span = durationMs(t);
        return `(${time()} > ${p.add(new Date(now.getTime() - span))} AND ${time()} <= ${p.add(now)})`;
      }
      case 'within_next': {
        const span = durationMs(t);
        return `(${time()} >= ${p.add(now)} AND ${time()} < ${p.add(new Date(now.getTime() + span))})`;
      }
      default:
        return assertNever(t);
    }
  }
}

/** PostgreSQL: JSON scalars and times are read differently; everything else is shared. */
export class PostgresSegmentCompiler extends DefaultSegmentCompiler {
  /**
   * PostgreSQL recomputes a window frame with `EXCLUDE CURRENT ROW` row by row (minutes on the
   * Online Retail set), so it tests each A for a following B with a correlated `EXISTS`.
   */
  protected override sequence(s: SequenceFeature, p: Params, now: Date): string {
    const within = `INTERVAL '${s.withinMs / 1000} seconds'`;
    const elapsed = s.followed ? '' : ` AND a.timestamp <= ${p.add(new Date(now.getTime() - s.withinMs))}`;
    return `  SELECT DISTINCT a.profile_id FROM ev a
  WHERE a.profile_id IS NOT NULL AND ${this.eventMatch('a', s.first.event, s.first.where ?? [], p, now)}${this.window('a', s.window, p, now)}${elapsed}
    AND ${s.followed ? '' : 'NOT '}EXISTS (
      SELECT 1 FROM ev b
      WHERE b.profile_id = a.profile_id AND ${this.eventMatch('b', s.next.event, s.next.where ?? [], p, now)}
        AND b.timestamp >= a.timestamp AND b.timestamp <= a.timestamp + ${within} AND b.seq <> a.seq)`;
  }

  protected override jsonScalarText(expr: string): string {
    return `((${expr})::jsonb #>> '{}')`;
  }

  // A cast of text that looks like a time can still fail (`2026-02-30`): the function gives NULL.
  protected override toTimestamp(expr: string): string {
    return `(CASE WHEN ${expr} ~ '^${ISO_TIME_SQL}$' THEN sluice_timestamptz(${expr}) END)`;
  }
}

export function segmentCompiler(dialect: Dialect): DefaultSegmentCompiler {
  return dialect.name === 'postgres'
    ? new PostgresSegmentCompiler(dialect)
    : new DefaultSegmentCompiler(dialect);
}

function numberTest(x: string, t: NumberTest): string {
  switch (t.operator) {
    case 'at_least':
      return `${x} >= ${t.value}`;
    case 'at_most':
      return `${x} <= ${t.value}`;
    case 'exactly':
      return `${x} = ${t.value}`;
    case 'greater_than':
      return `${x} > ${t.value}`;
    case 'less_than':
      return `${x} < ${t.value}`;
    case 'between':
      return `${x} BETWEEN ${t.min} AND ${t.max}`;
    default:
      return assertNever(t);
  }
}
