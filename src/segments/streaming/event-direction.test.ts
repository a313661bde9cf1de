import { describe, expect, it } from 'vitest';
import type { Condition } from '../../core/index.js';
import { planSegments } from '../segment-plan.js';
import { EITHER, ENTERS_ONLY, EXITS_ONLY, eventDirections } from './event-direction.js';

const did = (event: string, operator: 'at_least' | 'at_most' | 'exactly', value: number): Condition => ({
  kind: 'event',
  event,
  window: { kind: 'last', amount: 7, unit: 'days' },
  measure: { kind: 'count', test: { operator, value } },
});
const spent = (value: number): Condition => ({
  kind: 'event',
  event: 'Order Completed',
  window: { kind: 'last', amount: 30, unit: 'days' },
  measure: {
    kind: 'aggregate',
    function: 'sum',
    property: 'revenue',
    test: { operator: 'greater_than', value },
  },
});

describe('event directions', () => {
  it('says which way one more event can move each condition', () => {
    const conditions: Condition[] = [
      did('Viewed', 'at_least', 3),
      { kind: 'not', condition: did('Viewed', 'at_least', 1) },
      did('Viewed', 'at_most', 2),
      did('Viewed', 'exactly', 2),
      // One more view can only help; one more order can only hurt.
      {
        kind: 'all',
        conditions: [did('Viewed', 'at_least', 1), { kind: 'not', condition: did('Ordered', 'at_least', 1) }],
      },
      // Views count both ways here.
      { kind: 'any', conditions: [did('Viewed', 'at_least', 5), did('Viewed', 'at_most', 0)] },
      // A sum may meet a negative value.
      spent(100),
    ];
    const plan = planSegments(
      conditions.map((condition, i) => ({ id: `s${i}`, condition })),
      () => undefined,
    );
    const d = eventDirections(
      plan,
      plan.segments.map((_, i) => i),
    );
    expect([...d.get('Viewed')!]).toEqual([
      ENTERS_ONLY,
      EXITS_ONLY,
      EXITS_ONLY,
      EITHER,
      ENTERS_ONLY,
      EITHER,
      EITHER,
    ]);
    expect(d.get('Ordered')![4]).toBe(EXITS_ONLY);
    expect(d.get('Order Completed')![6]).toBe(EITHER);
  });
});
