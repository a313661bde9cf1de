import { describe, expect, it } from 'vitest';
import type { Condition } from '../core/index.js';
import { earliestEventTimes, planSegments } from './segment-plan.js';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400_000;
const days = (amount: number) => ({ kind: 'last', amount, unit: 'days' }) as const;

const earliest = (...conditions: Condition[]) =>
  earliestEventTimes(
    planSegments(
      conditions.map((condition, i) => ({ id: `s${i}`, condition })),
      () => undefined,
    ),
    NOW,
  );

describe('earliestEventTimes', () => {
  it('keeps the widest window of every feature reading an event name', () => {
    const times = earliest(
      { kind: 'event', event: 'Page Viewed', window: days(7) },
      { kind: 'event', event: 'Page Viewed', window: days(30), performed: false },
      {
        kind: 'event',
        event: 'Order Completed',
        window: { kind: 'between', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' },
      },
    );
    expect(times).toEqual(
      new Map([
        ['Page Viewed', NOW - 30 * DAY],
        ['Order Completed', Date.parse('2026-01-01T00:00:00Z')],
      ]),
    );
  });

  it('reads every event of a name that any feature reads without a window', () => {
    const times = earliest(
      { kind: 'event', event: 'Signed In', window: days(7) },
      { kind: 'event', event: 'Signed In' },
    );
    expect(times.has('Signed In')).toBe(true);
    expect(times.get('Signed In')).toBeUndefined();
  });

  it("counts a sequence's second step from its first step's window", () => {
    const times = earliest(
      { kind: 'event', event: 'Order Completed', window: days(1) },
      {
        kind: 'sequence',
        first: { event: 'Product Added' },
        next: { event: 'Order Completed' },
        within: { amount: 1, unit: 'days' },
        window: days(14),
      },
    );
    expect(times.get('Product Added')).toBe(NOW - 14 * DAY);
    expect(times.get('Order Completed')).toBe(NOW - 14 * DAY);
  });
});
