import type { EventFeature } from '../segment-plan.js';

/** A property value as an aggregate reads it: a number, a text (distinct counts), or null. */
export type AggregatedValue = number | string | null;

/**
 * One profile's events of one name that pass one list of filters, kept while the longest `last`
 * window reading them holds them: their times in ascending order, with the properties that
 * aggregates read. Every windowed feature over the same events (the same count over an hour, a
 * day and a week, say) reads this one list from its own window's start instead of keeping a copy.
 */
export class MatchedEvents {
  readonly times: number[] = [];
  /** Per aggregated property (a column of the route), the value each event carried. */
  private readonly columns: AggregatedValue[][];

  constructor(columns: number) {
    this.columns = Array.from({ length: columns }, () => []);
  }

  get size(): number {
    return this.times.length;
  }

  /** Adds an event at `t` with its column values, unless it is at or before `keepAfter`. */
  add(t: number, values: readonly AggregatedValue[], keepAfter: number): void {
    if (t <= keepAfter) return;
    let i = this.times.length;
    while (i > 0 && this.times[i - 1]! > t) i--;
    if (i === this.times.length) {
      this.times.push(t);
      for (let c = 0; c < this.columns.length; c++) this.columns[c]!.push(values[c] ?? null);
    } else {
      this.times.splice(i, 0, t);
      for (let c = 0; c < this.columns.length; c++) this.columns[c]!.splice(i, 0, values[c] ?? null);
    }
  }

  /** Forgets the events at or before `start`, which no window reads any more. */
  expire(start: number): void {
    const drop = this.firstAfter(start);
    if (drop === 0) return;
    this.times.splice(0, drop);
    for (const column of this.columns) column.splice(0, drop);
  }

  /** The index of the first event after `start` (the size when there is none). */
  firstAfter(start: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! <= start) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The aggregate of the events after `start`: a count (0 when none), or null when no event
   * carried a value. Values are added in time order, so a sum is the same floating-point number
   * however the events arrived.
   */
  aggregate(fn: EventFeature['fn'], column: number, start: number): number | null {
    const from = this.firstAfter(start);
    const n = this.times.length;
    if (fn === 'count') return n - from;
    // No column: the feature aggregates no property, so no event carries a value.
    const values = this.columns[column] ?? [];
    if (fn === 'distinct_count') {
      const distinct = new Set<string>();
      for (let i = from; i < values.length; i++) {
        const v = values[i];
        if (typeof v === 'string') distinct.add(v);
      }
      return distinct.size;
    }
    let sum = 0;
    let numeric = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = from; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number') continue;
      sum += v;
      numeric++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (numeric === 0) return null;
    switch (fn) {
      case 'sum':
        return sum;
      case 'average':
        return sum / numeric;
      case 'min':
        return min;
      case 'max':
        return max;
    }
  }

  /** When the oldest event in one of the windows `spans` (ms, ascending) leaves it. */
  nextChange(now: number, spans: readonly number[]): number {
    let next = Number.POSITIVE_INFINITY;
    for (const span of spans) {
      const i = this.firstAfter(now - span);
      if (i < this.times.length) next = Math.min(next, this.times[i]! + span);
    }
    return next;
  }
}
