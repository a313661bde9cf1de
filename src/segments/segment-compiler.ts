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
  earliestEventTimes,
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

/**
 * One statement being compiled: its parameters (`add` hands out placeholders), and where a dialect
 * materializes the events, the columns of their properties and the numbers of their names.
 */
class Statement {
  readonly values: SqlValue[] = [];
  /** Property path (dotted) to its column in `ev`, where a dialect extracts properties once. */
  readonly propertyColumns = new Map<string, string>();
  /** Event name to its number in `ev.event_code`, where a dialect numbers the event names. */
  readonly eventCodes = new Map<string, number>();
  /** Event names whose rows have a copy of their own (`ev_<code>`), where a dialect makes them. */
  readonly readOften = new Set<string>();

  add(value: SqlValue): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Per property path the event names whose rows read it, in first-use order. */
function propertiesOf(plan: SegmentPlan): Map<string, Set<string>> {
  const paths = new Map<string, Set<string>>();
  const use = (path: string, event: string) => paths.set(path, (paths.get(path) ?? new Set()).add(event));
  for (const f of plan.events) {
    for (const w of f.where) use(w.property, f.event);
    if (f.property) use(f.property, f.event);
  }
  for (const s of plan.sequences) {
    for (const step of [s.first, s.next]) for (const w of step.where ?? []) use(w.property, step.event);
  }
  return paths;
}

/**
 * Compiles a segment plan to one statement that computes every feature in shared scans and
 * answers, per profile, one boolean per segment:
 * `SELECT profile_id, <segment 0> AS s0, <segment 1> AS s1 FROM ...`. The events a plan reads are
 * tied to their profiles once (`ev`), then each event name's aggregates are computed in a scan of
 * its own rows. Written once; dialects override only what differs.
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
   * The profiles (`pk`, `profile_id`) and the plan's events with the key of their profile (`pk`),
   * their name (see `eventIs`), `timestamp` and the properties the plan reads (see
   * `propertyText`). DuckDB numbers the profiles and the event names and resolves each event once,
   * into a materialized table of small columns: the scans that follow read that instead of the
   * events and the identifiers again, and compare, group and join integers. Each property is
   * extracted from the JSON once, for the events that read it.
   */
  protected eventRows(names: readonly string[], plan: SegmentPlan, p: Statement, now: Date): string[] {
    const keys = `profile_keys AS MATERIALIZED (
  SELECT profile_id, CAST(row_number() OVER () AS INTEGER) AS pk FROM (SELECT DISTINCT profile_id FROM identifiers) d
)`;
    if (names.length === 0) return [keys];
    for (const [code, name] of names.entries()) p.eventCodes.set(name, code);
    // Each name's events from the earliest time any feature or sequence counts (e.g. only the last
    // 30 days of page views when no segment reads older ones).
    const earliest = [...earliestEventTimes(plan, now.getTime())].flatMap(([name, from]) =>
      from === undefined ? [] : [`WHEN ${p.add(name)} THEN CAST(${p.add(new Date(from))} AS TIMESTAMPTZ)`],
    );
    // A filter of the events alone, so that the planner still sees millions of rows to probe with.
    const since =
      earliest.length === 0
        ? ''
        : ` WHERE timestamp >= CASE event ${earliest.join(' ')} ELSE '-infinity'::TIMESTAMPTZ END`;
    const codes = names.map((name, code) => `(${p.add(name)}, ${code})`);
    const properties = [...propertiesOf(plan)].map(([path, events], i) => {
      const column = `property_${i}`;
      p.propertyColumns.set(path, column);
      const text = this.dialect.jsonText('e.properties', path.split('.'));
      return `,
    CASE WHEN n.code IN (${[...events].map((name) => p.eventCodes.get(name)).join(', ')}) THEN ${text} END AS ${column}`;
    });
    // An event's profile is its user id's, else its anonymous id's: the anonymous id is looked up
    // only when the user id is not known (a NULL key probes nothing).
    const keysOf = (namespace: string) =>
      `SELECT i.value, k.pk FROM identifiers i JOIN profile_keys k ON k.profile_id = i.profile_id WHERE i.namespace = '${namespace}'`;
    const pk = 'COALESCE(ep_user.pk, ep_anon.pk)';
    // A copy of one name's rows saves nothing when they are all the rows.
    if (names.length > 1) {
      for (const [name, scans] of scansPerName(plan)) if (scans > 1) p.readOften.add(name);
    }
    // The rows of a name that several scans read are copied out of `ev` once, and those scans read
    // the copy: for the bench's 100 segments, 19 scans of `ev` (25.7 million rows) instead of 45.
    // That statement alone, 8 interleaved runs: mean 54.2 s against 58.6 s (the whole evaluation
    // in the bench varies more than that from run to run).
    const copies = names.flatMap((name, code) =>
      p.readOften.has(name)
        ? [`ev_${code} AS MATERIALIZED (SELECT * FROM ev WHERE event_code = ${code})`]
        : [],
    );
    return [
      keys,
      `user_keys AS MATERIALIZED (\n  ${keysOf('user_id')}\n)`,
      `anonymous_keys AS MATERIALIZED (\n  ${keysOf('anonymous_id')}\n)`,
      `ev AS MATERIALIZED (
  SELECT ${pk} AS pk, CAST(n.code AS SMALLINT) AS event_code, e.timestamp${properties.join('')}
  FROM (SELECT * FROM events${since}) e JOIN (VALUES ${codes.join(', ')}) n(event, code) ON n.event = e.event
  LEFT JOIN user_keys ep_user ON ep_user.value = e.user_id
  LEFT JOIN anonymous_keys ep_anon ON ep_anon.value = CASE WHEN ep_user.pk IS NULL THEN e.anonymous_id END
  WHERE ${pk} IS NOT NULL
)`,
      ...copies,
    ];
  }

  /** Where a scan reads an event's rows from, named `ev`: its own copy if `eventRows` made one. */
  protected eventsOf(event: string, p: Statement): string {
    return p.readOften.has(event) ? `ev_${p.eventCodes.get(event)} ev` : 'ev';
  }

  /** Whether the row of `ev` under `alias` is an `event`. */
  protected eventIs(alias: string, event: string, p: Statement): string {
    return `${alias}.event_code = ${p.eventCodes.get(event)}`;
  }

  /** Every profile, as `p(pk, profile_id)`. */
  protected profiles(): string {
    return 'profile_keys p';
  }

  /** The text of an event property in `ev` (under `alias`). */
  protected propertyText(alias: string, path: string, p: Statement): string {
    return `${alias}.${p.propertyColumns.get(path)}`;
  }

  /**
   * `now` is the instant the segments are evaluated at.
   * @example compile(plan, now) // WITH ..., ev AS (...), event_features_0 AS (...) SELECT profile_id, ... AS s0 FROM features
   */
  compile(plan: SegmentPlan, now: Date): CompiledSql {
    const p = new Statement();
    const names = eventNamesOf(plan);
    const ctes = this.eventRows(names, plan, p, now);
    const columns: string[] = [];
    const joins: string[] = [];
    // One scan per event name: each aggregate reads only its own event's rows, instead of every
    // aggregate's filter being tested on every row of every name.
    const byName = new Map<string, number[]>();
    for (const [i, f] of plan.events.entries()) byName.set(f.event, [...(byName.get(f.event) ?? []), i]);
    [...byName].forEach(([name, features], k) => {
      const aggregates = features.map((i) => `${this.eventAggregate(plan.events[i]!, p, now)} AS e${i}`);
      ctes.push(`event_features_${k} AS (
  SELECT pk, ${aggregates.join(',\n    ')}
  FROM ${this.eventsOf(name, p)} WHERE ${this.eventIs('ev', name, p)} GROUP BY pk
)`);
      joins.push(`LEFT JOIN event_features_${k} ef${k} ON ef${k}.pk = p.pk`);
      columns.push(...features.map((i) => `ef${k}.e${i}`));
    });
    for (const source of ['attribute', 'trait'] as const) {
      const wanted = plan.values.map((v, i) => ({ ...v, i })).filter((v) => v.source === source);
      if (wanted.length === 0) continue;
      const table = source === 'attribute' ? 'profile_attributes' : 'profile_traits';
      const alias = source === 'attribute' ? 'av' : 'tv';
      const pivots = wanted.map(
        (v) => `${this.jsonScalarText(`max(value) FILTER (WHERE name = ${p.add(v.name)})`)} AS v${v.i}`,
      );
      ctes.push(`${alias}_values AS (
  SELECT profile_id, ${pivots.join(',\n    ')}
  FROM ${table} GROUP BY profile_id
)`);
      joins.push(`LEFT JOIN ${alias}_values ${alias} ON ${alias}.profile_id = p.profile_id`);
      columns.push(...wanted.map((v) => `${alias}.v${v.i}`));
    }
    if (plan.sequences.length > 0) {
      plan.sequences.forEach((s, i) => {
        ctes.push(`sequence_${i} AS (\n${this.sequence(s, p, now)}\n)`);
      });
      // One join for all the sequences instead of one each: per profile, which of them it meets.
      // The bench's statement alone (13 sequences, 4 interleaved runs): 47.7-62.3 s against
      // 51.1-63.7 s, faster in 3 of the 4 runs.
      const each = plan.sequences.map((_, i) => `SELECT pk, ${i} AS i FROM sequence_${i}`);
      const flags = plan.sequences.map((_, i) => `bool_or(i = ${i}) AS q${i}`);
      ctes.push(`sequences AS (
  SELECT pk, ${flags.join(', ')}
  FROM (${each.join('\n    UNION ALL ')}) s GROUP BY pk
)`);
      joins.push('LEFT JOIN sequences sq ON sq.pk = p.pk');
      columns.push(...plan.sequences.map((_, i) => `coalesce(sq.q${i}, false) AS q${i}`));
    }
    ctes.push(`features AS (
  SELECT p.pk, p.profile_id${columns.map((c) => `, ${c}`).join('')}
  FROM ${this.profiles()}
  ${joins.join('\n  ')}
)`);
    // Each ranking orders only the profiles that have its metric, by that metric alone.
    const ranked = plan.ranks.map((r, i) => {
      const order = r.direction === 'top' ? 'DESC' : 'ASC';
      ctes.push(`rank_${i} AS (
  SELECT pk, rank() OVER (ORDER BY m ${order}) AS r${i}, count(*) OVER () AS n${i}
  FROM (SELECT pk, ${this.metric(r, plan)} AS m FROM features) x WHERE m IS NOT NULL
)`);
      return ` LEFT JOIN rank_${i} USING (pk)`;
    });
    const selects = plan.segments.map((s, i) => `${this.node(s.node, plan, p, now)} AS s${i}`);
    const sql = `WITH ${ctes.join(',\n')}\nSELECT profile_id, ${selects.join(',\n  ')}\nFROM features${ranked.join('')}`;
    return { sql, params: p.values };
  }

  private node(n: PlanNode, plan: SegmentPlan, p: Statement, now: Date): string {
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
        return `coalesce(r${n.feature} <= ${limit}, false)`;
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

  private eventAggregate(f: EventFeature, p: Statement, now: Date): string {
    // The scan reads only the feature's event: what is left to test is its filters and window.
    const tests = [...this.propertyTests('ev', f.where, p, now), ...this.windowTests('ev', f.window, p, now)];
    const filter = tests.length > 0 ? ` FILTER (WHERE ${tests.join(' AND ')})` : '';
    const text = f.property ? this.propertyText('ev', f.property, p) : 'NULL';
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
   * abandonment, that none does and T has passed), by the earliest B at or after each A. When A
   * and B are different events, an ASOF join finds it (each side sorted once); when they are the
   * same event a row may be both, and a window over the profile's events finds the earliest B
   * other than the row itself.
   */
  protected sequence(s: SequenceFeature, p: Statement, now: Date): string {
    const within = `INTERVAL '${s.withinMs / 1000} seconds'`;
    // An abandonment needs T to have passed since A.
    const elapsed = s.followed ? '' : ` AND ev.timestamp <= ${p.add(new Date(now.getTime() - s.withinMs))}`;
    const isFirst = `${this.eventMatch('ev', s.first.event, s.first.where ?? [], p, now)}${this.window('ev', s.window, p, now)}${elapsed}`;
    const isNext = this.eventMatch('ev', s.next.event, s.next.where ?? [], p, now);
    const test = s.followed
      ? `x.next_at <= x.timestamp + ${within}`
      : `(x.next_at IS NULL OR x.next_at > x.timestamp + ${within})`;
    if (s.first.event !== s.next.event) {
      return `  SELECT DISTINCT x.pk FROM (
    SELECT a.pk, a.timestamp, b.timestamp AS next_at
    FROM (SELECT ev.pk, ev.timestamp FROM ${this.eventsOf(s.first.event, p)} WHERE ${isFirst}) a
    ASOF ${s.followed ? '' : 'LEFT '}JOIN (SELECT ev.pk, ev.timestamp FROM ${this.eventsOf(s.next.event, p)} WHERE ${isNext}) b
      ON b.pk = a.pk AND b.timestamp >= a.timestamp
  ) x
  WHERE ${test}`;
    }
    return `  SELECT DISTINCT x.pk FROM (
    SELECT ev.pk, ev.timestamp, (${isFirst}) AS is_first,
      min(CASE WHEN ${isNext} THEN ev.timestamp END) OVER (
        PARTITION BY ev.pk ORDER BY ev.timestamp
        RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) AS next_at
    FROM ${this.eventsOf(s.first.event, p)} WHERE (${isFirst}) OR (${isNext})
  ) x
  WHERE x.is_first AND ${test}`;
  }

  protected eventMatch(
    alias: string,
    event: string,
    where: readonly PropertyFilter[],
    p: Statement,
    now: Date,
  ): string {
    return [this.eventIs(alias, event, p), ...this.propertyTests(alias, where, p, now)].join(' AND ');
  }

  private propertyTests(alias: string, where: readonly PropertyFilter[], p: Statement, now: Date): string[] {
    return where.map(
      (f) => `coalesce(${this.valueTest(this.propertyText(alias, f.property, p), f.test, p, now)}, false)`,
    );
  }

  /** ` AND <tests>` of the time window, or nothing for `ever`. */
  protected window(alias: string, w: Window, p: Statement, now: Date): string {
    return this.windowTests(alias, w, p, now)
      .map((t) => ` AND ${t}`)
      .join('');
  }

  private windowTests(alias: string, w: Window, p: Statement, now: Date): string[] {
    switch (w.kind) {
      case 'ever':
        return [];
      case 'last':
        return [`${alias}.timestamp > ${p.add(new Date(windowStart(w, now.getTime())))}`];
      case 'between':
        return [
          `${alias}.timestamp >= ${p.add(new Date(w.from))}`,
          `${alias}.timestamp < ${p.add(new Date(w.to))}`,
        ];
      default:
        return assertNever(w);
    }
  }

  /** A test of the text `x`; NULL (unknown) when `x` is NULL, except for `exists` and `is_empty`. */
  private valueTest(x: string, t: ValueTest, p: Statement, now: Date): string {
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

/**
 * PostgreSQL: events are read through the identifiers' indexes where they are used (the profile id
 * is the key), JSON scalars and times are read differently; everything else is shared.
 */
export class PostgresSegmentCompiler extends DefaultSegmentCompiler {
  protected override eventRows(
    names: readonly string[],
    _plan: SegmentPlan,
    p: Statement,
    _now: Date,
  ): string[] {
    if (names.length === 0) return [];
    return [
      `ev AS NOT MATERIALIZED (
  SELECT e.seq, e.event, e.timestamp, e.properties, ${EVENT_PROFILE_ID} AS pk
  FROM events e ${EVENT_PROFILE_JOIN}
  WHERE e.event IN (${names.map((n) => p.add(n)).join(', ')}) AND ${EVENT_PROFILE_ID} IS NOT NULL
)`,
    ];
  }

  protected override profiles(): string {
    return '(SELECT DISTINCT profile_id AS pk, profile_id FROM identifiers) p';
  }

  protected override eventIs(alias: string, event: string, p: Statement): string {
    return `${alias}.event = ${p.add(event)}`;
  }

  protected override propertyText(alias: string, path: string): string {
    return this.dialect.jsonText(`${alias}.properties`, path.split('.'));
  }

  /**
   * PostgreSQL recomputes a window frame with `EXCLUDE CURRENT ROW` row by row (minutes on the
   * Online Retail set), so it tests each A for a following B with a correlated `EXISTS`.
   */
  protected override sequence(s: SequenceFeature, p: Statement, now: Date): string {
    const within = `INTERVAL '${s.withinMs / 1000} seconds'`;
    const elapsed = s.followed ? '' : ` AND a.timestamp <= ${p.add(new Date(now.getTime() - s.withinMs))}`;
    return `  SELECT DISTINCT a.pk FROM ev a
  WHERE ${this.eventMatch('a', s.first.event, s.first.where ?? [], p, now)}${this.window('a', s.window, p, now)}${elapsed}
    AND ${s.followed ? '' : 'NOT '}EXISTS (
      SELECT 1 FROM ev b
      WHERE b.pk = a.pk AND ${this.eventMatch('b', s.next.event, s.next.where ?? [], p, now)}
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

/** How many scans of the events read each name: one for its aggregates, one per sequence side. */
function scansPerName(plan: SegmentPlan): Map<string, number> {
  const scans = new Map<string, number>();
  const scan = (name: string) => scans.set(name, (scans.get(name) ?? 0) + 1);
  for (const name of new Set(plan.events.map((f) => f.event))) scan(name);
  for (const s of plan.sequences) {
    scan(s.first.event);
    // A sequence of one event reads its rows in one scan.
    if (s.next.event !== s.first.event) scan(s.next.event);
  }
  return scans;
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
