import {
  type AggregateFunction,
  assertNever,
  type Condition,
  durationMs,
  type EventStep,
  type Metric,
  type NumberTest,
  type PropertyFilter,
  type ValueTest,
  type Window,
} from '../core/index.js';
import { windowFrom } from './time-window.js';

/** An aggregate of one profile's matching events: computed once, however many segments use it. */
export interface EventFeature {
  event: string;
  where: readonly PropertyFilter[];
  window: Window;
  fn: 'count' | AggregateFunction;
  property?: string | undefined;
}

/**
 * Whether a measure of `fn` over no events counts as 0 (count, sum, distinct count) rather than as
 * unknown (average, min, max), for batch and streaming alike.
 */
export function zeroWhenNone(fn: EventFeature['fn']): boolean {
  return fn === 'count' || fn === 'sum' || fn === 'distinct_count';
}

/** Whether a profile has a first step followed (or not followed) by a second within a time. */
export interface SequenceFeature {
  first: EventStep;
  next: EventStep;
  withinMs: number;
  followed: boolean;
  window: Window;
}

/** A profile attribute or computed trait value. */
export interface ValueFeature {
  source: 'attribute' | 'trait';
  name: string;
}

/** A profile's place in a ranking of every profile by a metric. */
export interface RankFeature {
  metric: { kind: 'event'; feature: number } | { kind: 'value'; feature: number };
  direction: 'top' | 'bottom';
  percent?: number | undefined;
  count?: number | undefined;
}

/** A condition whose leaves point at features. */
export type PlanNode =
  | { kind: 'all' | 'any'; nodes: PlanNode[] }
  | { kind: 'not'; node: PlanNode }
  | { kind: 'value'; feature: number; test: ValueTest }
  | { kind: 'measure'; feature: number; test: NumberTest }
  | { kind: 'sequence'; feature: number }
  | { kind: 'rank'; feature: number };

export interface PlannedSegment {
  id: string;
  node: PlanNode;
}

/** Segments over shared features: what batch SQL and the streaming evaluator both compute. */
export interface SegmentPlan {
  segments: PlannedSegment[];
  events: EventFeature[];
  sequences: SequenceFeature[];
  values: ValueFeature[];
  ranks: RankFeature[];
}

const EVER: Window = { kind: 'ever' };

/**
 * Plans segments: references to other segments are replaced by their conditions (`conditionOf`
 * gives them; cycles were refused when they were saved), and equal leaves share one feature.
 */
export function planSegments(
  segments: readonly { id: string; condition: Condition }[],
  conditionOf: (segmentId: string) => Condition | undefined,
): SegmentPlan {
  const plan: SegmentPlan = { segments: [], events: [], sequences: [], values: [], ranks: [] };
  const keys = new Map<string, number>();
  const intern = <T>(list: T[], kind: string, feature: T): number => {
    const key = `${kind}:${JSON.stringify(feature)}`;
    let index = keys.get(key);
    if (index === undefined) {
      index = list.push(feature) - 1;
      keys.set(key, index);
    }
    return index;
  };
  const eventFeature = (f: EventFeature) =>
    intern(plan.events, 'event', {
      event: f.event,
      where: f.where,
      window: f.window,
      fn: f.fn,
      property: f.fn === 'count' ? undefined : f.property,
    });
  const valueFeature = (source: ValueFeature['source'], name: string) =>
    intern(plan.values, 'value', { source, name });

  const visit = (c: Condition, path: readonly string[]): PlanNode => {
    switch (c.kind) {
      case 'all':
      case 'any':
        return { kind: c.kind, nodes: c.conditions.map((x) => visit(x, path)) };
      case 'not':
        return { kind: 'not', node: visit(c.condition, path) };
      case 'attribute':
        return { kind: 'value', feature: valueFeature('attribute', c.attribute), test: c.test };
      case 'trait':
        return { kind: 'value', feature: valueFeature('trait', c.trait), test: c.test };
      case 'event': {
        const base = { event: c.event, where: c.where ?? [], window: c.window ?? EVER };
        if (c.performed === false) {
          return {
            kind: 'measure',
            feature: eventFeature({ ...base, fn: 'count' }),
            test: { operator: 'exactly', value: 0 },
          };
        }
        const m = c.measure;
        if (!m || m.kind === 'count') {
          return {
            kind: 'measure',
            feature: eventFeature({ ...base, fn: 'count' }),
            test: m?.test ?? { operator: 'at_least', value: 1 },
          };
        }
        return {
          kind: 'measure',
          feature: eventFeature({ ...base, fn: m.function, property: m.property }),
          test: m.test,
        };
      }
      case 'sequence':
        return {
          kind: 'sequence',
          feature: intern(plan.sequences, 'sequence', {
            first: { event: c.first.event, where: c.first.where ?? [] },
            next: { event: c.next.event, where: c.next.where ?? [] },
            withinMs: durationMs(c.within),
            followed: c.followed !== false,
            window: c.window ?? EVER,
          }),
        };
      case 'segment': {
        if (path.includes(c.segment)) throw new Error(`segment cycle through ${c.segment}`);
        const referenced = conditionOf(c.segment);
        if (!referenced) throw new Error(`unknown segment ${c.segment}`);
        return visit(referenced, [...path, c.segment]);
      }
      case 'rank':
        return {
          kind: 'rank',
          feature: intern(plan.ranks, 'rank', {
            metric: metricFeature(c.metric),
            direction: c.direction,
            percent: c.percent,
            count: c.count,
          }),
        };
      default:
        return assertNever(c);
    }
  };
  const metricFeature = (m: Metric): RankFeature['metric'] => {
    switch (m.kind) {
      case 'event':
        return {
          kind: 'event',
          feature: eventFeature({
            event: m.event,
            where: m.where ?? [],
            window: m.window ?? EVER,
            fn: m.function,
            property: m.property,
          }),
        };
      case 'attribute':
        return { kind: 'value', feature: valueFeature('attribute', m.attribute) };
      case 'trait':
        return { kind: 'value', feature: valueFeature('trait', m.trait) };
      default:
        return assertNever(m);
    }
  };
  for (const s of segments) plan.segments.push({ id: s.id, node: visit(s.condition, [s.id]) });
  return plan;
}

/** The event names a plan reads. */
export function eventNamesOf(plan: SegmentPlan): string[] {
  const names = new Set<string>();
  for (const f of plan.events) names.add(f.event);
  for (const s of plan.sequences) {
    names.add(s.first.event);
    names.add(s.next.event);
  }
  return [...names].sort();
}

/**
 * Per event name a plan reads, the earliest time (ms) at `now` that any of its features or
 * sequences can count; undefined when some reads every event of that name. A sequence's second
 * step counts from its first step's window, since it follows a first step.
 */
export function earliestEventTimes(plan: SegmentPlan, now: number): Map<string, number | undefined> {
  const earliest = new Map<string, number | undefined>();
  const need = (event: string, from: number | undefined) => {
    const known = earliest.has(event) ? earliest.get(event) : from;
    earliest.set(event, known === undefined || from === undefined ? undefined : Math.min(known, from));
  };
  for (const f of plan.events) need(f.event, windowFrom(f.window, now));
  for (const s of plan.sequences) {
    const from = windowFrom(s.window, now);
    need(s.first.event, from);
    need(s.next.event, from);
  }
  return earliest;
}
