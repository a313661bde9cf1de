import { durationMs, type PropertyFilter } from '../../core/index.js';
import type { SegmentPlan } from '../segment-plan.js';

/** A property filter with its path split once. */
export interface CompiledFilter {
  path: readonly string[];
  test: PropertyFilter['test'];
}

/** Where an event goes when it passes the filter list numbered `where` of its name's route. */
export type Target =
  /** The matched events of a windowed log (see `MatchedEvents`). */
  | { kind: 'log'; log: number; where: number }
  /** The running totals of an event feature over all time or fixed dates. */
  | { kind: 'totals'; feature: number; where: number }
  | { kind: 'first' | 'next'; feature: number; where: number };

/** What events of one name feed: the distinct filter lists they are tested against, once each. */
export interface EventRoute {
  filters: CompiledFilter[][];
  targets: Target[];
}

/** One (event name, filter list) whose events windowed features read. */
export interface LogPlan {
  /** The windows (ms) of the features reading it, ascending; events older than the last are dropped. */
  spans: number[];
  /** The properties kept per event, and how each is read (as text for distinct counts). */
  columns: { path: readonly string[]; as: 'number' | 'text' }[];
  /** Segments that read a feature of it. */
  segments: Set<number>;
}

/** How an event feature is read from a profile's state. */
export type FeatureSource =
  | { kind: 'log'; log: number; span: number; column: number }
  | { kind: 'totals' }
  | { kind: 'unused' };

export interface EventRoutes {
  byEvent: Map<string, EventRoute>;
  logs: LogPlan[];
  features: FeatureSource[];
}

/**
 * Routes events to the state the streaming segments read. Event features over a `last` window
 * that count or aggregate the same events (name and filters) share one log; features over all
 * time or fixed dates keep running totals; sequences keep their steps.
 */
export function routeEvents(
  plan: SegmentPlan,
  usedEvents: ReadonlySet<number>,
  usedSequences: ReadonlySet<number>,
  segmentsOfEvent: readonly ReadonlySet<number>[],
): EventRoutes {
  const byEvent = new Map<string, EventRoute>();
  const filterIndex = new Map<string, number>();
  const logs: LogPlan[] = [];
  const logIndex = new Map<string, number>();
  const features: FeatureSource[] = plan.events.map(() => ({ kind: 'unused' }));

  const filtersOf = (event: string, where: readonly PropertyFilter[]): number => {
    let route = byEvent.get(event);
    if (!route) {
      route = { filters: [], targets: [] };
      byEvent.set(event, route);
    }
    const key = `${event}\u0000${JSON.stringify(where)}`;
    let index = filterIndex.get(key);
    if (index === undefined) {
      index = route.filters.push(where.map((f) => ({ path: f.property.split('.'), test: f.test }))) - 1;
      filterIndex.set(key, index);
    }
    return index;
  };
  const target = (event: string, t: Target) => byEvent.get(event)!.targets.push(t);

  for (const i of [...usedEvents].sort((a, b) => a - b)) {
    const f = plan.events[i]!;
    const where = filtersOf(f.event, f.where);
    if (f.window.kind !== 'last') {
      features[i] = { kind: 'totals' };
      target(f.event, { kind: 'totals', feature: i, where });
      continue;
    }
    const key = `${f.event}\u0000${where}`;
    let log = logIndex.get(key);
    if (log === undefined) {
      log = logs.push({ spans: [], columns: [], segments: new Set() }) - 1;
      logIndex.set(key, log);
      target(f.event, { kind: 'log', log, where });
    }
    const l = logs[log]!;
    const span = durationMs(f.window);
    if (!l.spans.includes(span)) l.spans.push(span);
    l.spans.sort((a, b) => a - b);
    for (const s of segmentsOfEvent[i]!) l.segments.add(s);
    let column = -1;
    if (f.fn !== 'count' && f.property !== undefined) {
      const as = f.fn === 'distinct_count' ? 'text' : 'number';
      column = l.columns.findIndex((c) => c.as === as && c.path.join('.') === f.property);
      if (column < 0) column = l.columns.push({ path: f.property.split('.'), as }) - 1;
    }
    features[i] = { kind: 'log', log, span, column };
  }
  for (const i of [...usedSequences].sort((a, b) => a - b)) {
    const s = plan.sequences[i]!;
    target(s.first.event, {
      kind: 'first',
      feature: i,
      where: filtersOf(s.first.event, s.first.where ?? []),
    });
    target(s.next.event, { kind: 'next', feature: i, where: filtersOf(s.next.event, s.next.where ?? []) });
  }
  return { byEvent, logs, features };
}
