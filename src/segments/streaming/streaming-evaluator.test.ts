import { describe, expect, it } from 'vitest';
import type { Condition } from '../../core/index.js';
import { planSegments } from '../segment-plan.js';
import { type StreamEvent, StreamingEvaluator } from './streaming-evaluator.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const NOW = Date.parse('2026-03-01T12:00:00Z');

const viewed = (amount: number, unit: 'hours' | 'days', atLeast: number, category?: string): Condition => ({
  kind: 'event',
  event: 'Viewed',
  window: { kind: 'last', amount, unit },
  measure: { kind: 'count', test: { operator: 'at_least', value: atLeast } },
  ...(category ? { where: [{ property: 'category', test: { operator: 'equals', value: category } }] } : {}),
});

function evaluator(conditions: Condition[]): StreamingEvaluator {
  const plan = planSegments(
    conditions.map((condition, i) => ({ id: `s${i}`, condition })),
    () => undefined,
  );
  return new StreamingEvaluator(
    plan,
    plan.segments.map((_, i) => i),
  );
}

let seq = 0;
const event = (t: number, properties: Record<string, unknown> = {}): StreamEvent => ({
  seq: ++seq,
  messageId: `m${seq}`,
  event: 'Viewed',
  timestamp: t,
  properties,
});

const entered = (changes: { segment: number; entered: boolean }[]) =>
  changes.map((c) => `${c.entered ? '+' : '-'}${c.segment}`).sort();

describe('streaming evaluator', () => {
  it('reads windows of the same events from one log: each enters and leaves on its own time', () => {
    const ev = evaluator([viewed(1, 'hours', 1), viewed(1, 'days', 2), viewed(1, 'days', 1, 'shoes')]);
    ev.addProfile('p');
    expect(entered(ev.applyEvent('p', event(NOW - 2 * HOUR, { category: 'shoes' }), NOW))).toEqual(['+2']);
    expect(entered(ev.applyEvent('p', event(NOW, { category: 'hats' }), NOW))).toEqual(['+0', '+1']);
    // The hour window closes first, then the day window loses the shoes 22 hours later.
    expect(ev.nextDue).toBe(NOW + HOUR);
    expect(entered(ev.runTimers(NOW + HOUR))).toEqual(['-0']);
    expect(ev.nextDue).toBe(NOW + 22 * HOUR);
    expect(entered(ev.runTimers(NOW + 22 * HOUR))).toEqual(['-1', '-2']);
    expect(ev.nextDue).toBe(NOW + 24 * HOUR);
    expect(entered(ev.runTimers(NOW + 24 * HOUR))).toEqual([]);
    expect(ev.nextDue).toBe(Number.POSITIVE_INFINITY);
  });

  it('brings a profile timer forward when a new event closes a window sooner', () => {
    const ev = evaluator([viewed(1, 'hours', 1), viewed(1, 'days', 1)]);
    ev.addProfile('p');
    ev.applyEvent('p', event(NOW - 12 * HOUR), NOW);
    expect(ev.nextDue).toBe(NOW + 12 * HOUR);
    expect(entered(ev.applyEvent('p', event(NOW), NOW))).toEqual(['+0']);
    expect(ev.nextDue).toBe(NOW + HOUR);
    expect(entered(ev.runTimers(NOW + HOUR))).toEqual(['-0']);
    // The event twelve hours old still holds the day window, until it leaves it.
    expect(entered(ev.runTimers(NOW + 12 * HOUR))).toEqual([]);
    expect(ev.isMember(1, 'p')).toBe(true);
    expect(entered(ev.runTimers(NOW + 24 * HOUR))).toEqual(['-1']);
  });

  it('ignores an event older than every window, and timers of a profile merged away', () => {
    const ev = evaluator([viewed(1, 'hours', 1)]);
    ev.addProfile('p');
    expect(ev.applyEvent('p', event(NOW - 2 * HOUR), NOW)).toEqual([]);
    ev.applyEvent('p', event(NOW), NOW);
    expect(entered(ev.removeProfile('p', NOW, { kind: 'merge', into: 'q' }))).toEqual(['-0']);
    expect(ev.runTimers(NOW + HOUR)).toEqual([]);
  });

  it('lets time take a member out even when the next event is one that can only keep it in', () => {
    const ev = evaluator([viewed(1, 'hours', 2)]);
    ev.addProfile('p1');
    ev.applyEvent('p1', event(NOW), NOW);
    expect(entered(ev.applyEvent('p1', event(NOW + MINUTE), NOW + MINUTE))).toEqual(['+0']);
    // Two hours on, both views left the window: the new one alone is not enough, and the member
    // leaves as soon as the timers are run, whatever the event did not test.
    const later = NOW + 2 * HOUR;
    const changes = [...ev.applyEvent('p1', event(later), later), ...ev.runTimers(later)];
    expect(entered(changes)).toEqual(['-0']);
    expect(ev.isMember(0, 'p1')).toBe(false);
  });
});
