import { describe, expect, it } from 'vitest';
import { MatchedEvents } from './matched-events.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('matched events', () => {
  it('answers each window from its own start, late events included', () => {
    const log = new MatchedEvents(1);
    log.add(NOW - 30 * HOUR, [10], NOW - 48 * HOUR);
    log.add(NOW - 0.5 * HOUR, [5], NOW - 48 * HOUR);
    // Late: older than the last one, kept in time order.
    log.add(NOW - 2 * HOUR, [2.5], NOW - 48 * HOUR);
    expect(log.aggregate('count', -1, NOW - HOUR)).toBe(1);
    expect(log.aggregate('count', -1, NOW - 24 * HOUR)).toBe(2);
    expect(log.aggregate('sum', 0, NOW - 48 * HOUR)).toBe(17.5);
    expect(log.aggregate('min', 0, NOW - 24 * HOUR)).toBe(2.5);
    expect(log.aggregate('max', 0, NOW - 24 * HOUR)).toBe(5);
    expect(log.aggregate('average', 0, NOW - 24 * HOUR)).toBe(3.75);
  });

  it('counts events without a value but aggregates only values, and no column as no value', () => {
    const log = new MatchedEvents(2);
    log.add(NOW - HOUR, [null, 'a'], 0);
    log.add(NOW - HOUR, [3, 'b'], 0);
    log.add(NOW - HOUR, ['x', 'a'], 0);
    expect(log.aggregate('count', -1, 0)).toBe(3);
    expect(log.aggregate('sum', 0, 0)).toBe(3);
    expect(log.aggregate('distinct_count', 1, 0)).toBe(2);
    expect(log.aggregate('sum', 0, NOW)).toBeNull();
    expect(log.aggregate('max', -1, 0)).toBeNull();
    expect(log.aggregate('distinct_count', -1, 0)).toBe(0);
  });

  it('keeps nothing at or before the longest window and forgets what expires', () => {
    const log = new MatchedEvents(0);
    log.add(NOW - 10 * HOUR, [], NOW - 10 * HOUR);
    log.add(NOW - 5 * HOUR, [], NOW - 10 * HOUR);
    log.add(NOW - HOUR, [], NOW - 10 * HOUR);
    expect(log.size).toBe(2);
    log.expire(NOW - 2 * HOUR);
    expect(log.size).toBe(1);
    expect(log.aggregate('count', -1, 0)).toBe(1);
  });

  it('says when the oldest event of any window leaves it', () => {
    const log = new MatchedEvents(0);
    log.add(NOW - 30 * HOUR, [], 0);
    log.add(NOW - 0.5 * HOUR, [], 0);
    // The hour window loses its event in 30 minutes; the day window has nothing older to lose first.
    expect(log.nextChange(NOW, [HOUR, 24 * HOUR])).toBe(NOW + 0.5 * HOUR);
    expect(log.nextChange(NOW, [48 * HOUR])).toBe(NOW + 18 * HOUR);
    expect(new MatchedEvents(0).nextChange(NOW, [HOUR])).toBe(Number.POSITIVE_INFINITY);
  });
});
