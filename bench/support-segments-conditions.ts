// Builders for the segments benchmark's definitions, and their creation in order.
import type {
  AggregateFunction,
  Condition,
  NumberTest,
  PropertyFilter,
  TimeUnit,
  ValueTest,
  Window,
} from '../src/core/index.js';
import type { SegmentService } from '../src/segments/index.js';

/** A segment to create; `{ kind: 'segment', segment: '@name' }` refers to one created before it. */
export interface BenchSegment {
  name: string;
  condition: Condition;
}

export const last = (amount: number, unit: TimeUnit = 'days'): Window => ({ kind: 'last', amount, unit });
export const is = (property: string, test: ValueTest): PropertyFilter => ({ property, test });
export const eq = (property: string, value: string): PropertyFilter =>
  is(property, { operator: 'equals', value });
export const atLeast = (value: number): NumberTest => ({ operator: 'at_least', value });
export const over = (value: number): NumberTest => ({ operator: 'greater_than', value });
export const all = (...conditions: Condition[]): Condition => ({ kind: 'all', conditions });
export const any = (...conditions: Condition[]): Condition => ({ kind: 'any', conditions });
export const not = (condition: Condition): Condition => ({ kind: 'not', condition });
export const ref = (name: string): Condition => ({ kind: 'segment', segment: `@${name}` });
export const attr = (attribute: string, test: ValueTest): Condition => ({
  kind: 'attribute',
  attribute,
  test,
});

/** Performed `event` (at least once, or as `test` says) in `window`, with property filters. */
export function did(event: string, window?: Window, test?: NumberTest, where?: PropertyFilter[]): Condition {
  return {
    kind: 'event',
    event,
    ...(window ? { window } : {}),
    ...(where ? { where } : {}),
    ...(test ? { measure: { kind: 'count', test } } : {}),
  };
}

export function didNot(event: string, window?: Window, where?: PropertyFilter[]): Condition {
  return {
    kind: 'event',
    event,
    performed: false,
    ...(window ? { window } : {}),
    ...(where ? { where } : {}),
  };
}

export function aggregate(
  event: string,
  fn: AggregateFunction,
  property: string,
  test: NumberTest,
  window?: Window,
): Condition {
  return {
    kind: 'event',
    event,
    ...(window ? { window } : {}),
    measure: { kind: 'aggregate', function: fn, property, test },
  };
}

export function funnel(
  first: string,
  then: string,
  amount: number,
  unit: TimeUnit,
  window?: Window,
  followed = true,
  where: PropertyFilter[] = [],
): Condition {
  return {
    kind: 'sequence',
    first: { event: first, where },
    next: { event: then, where },
    within: { amount, unit },
    ...(followed ? {} : { followed: false }),
    ...(window ? { window } : {}),
  };
}

/** Creates the segments in order (references point at earlier ones) and returns their ids. */
export async function createAll(service: SegmentService, list: readonly BenchSegment[]): Promise<string[]> {
  const ids = new Map<string, string>();
  for (const s of list) {
    const condition = resolveReferences(s.condition, (name) => {
      const id = ids.get(name);
      if (!id) throw new Error(`segment ${s.name} refers to ${name}, which is not created before it`);
      return id;
    });
    ids.set(s.name, (await service.create({ name: s.name, condition })).id);
  }
  return [...ids.values()];
}

/** Replaces `@name` references by the ids of the segments created so far. */
export function resolveReferences(c: Condition, idOf: (name: string) => string): Condition {
  switch (c.kind) {
    case 'all':
    case 'any':
      return { ...c, conditions: c.conditions.map((x) => resolveReferences(x, idOf)) };
    case 'not':
      return { ...c, condition: resolveReferences(c.condition, idOf) };
    case 'segment':
      return c.segment.startsWith('@') ? { ...c, segment: idOf(c.segment.slice(1)) } : c;
    default:
      return c;
  }
}
