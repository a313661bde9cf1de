import { durationMs } from '../../core/index.js';
import type { EventFeature } from '../segment-plan.js';
import { inWindow } from '../time-window.js';

const NEVER = Number.POSITIVE_INFINITY;

/**
 * One profile's matching events for one event feature: enough to answer its aggregate at any
 * later time. A `last N` window keeps each event until it leaves the window; other windows keep
 * running totals.
 */
export class EventAggregateState {
  /** `last` windows: event times in ascending order, with the value each carried. */
  private times: number[] = [];
  private values: (number | string | null)[] = [];
  private count = 0;
  private sum = 0;
  private numeric = 0;
  private min = NEVER;
  private max = Number.NEGATIVE_INFINITY;
  private distinct: Map<string, number> | undefined;
  private readonly spanMs: number | undefined;

  constructor(private readonly feature: EventFeature) {
    this.spanMs = feature.window.kind === 'last' ? durationMs(feature.window) : undefined;
    if (feature.fn === 'distinct_count') this.distinct = new Map();
  }

  /** Adds a matching event at `t` carrying `value` (a number, a text for distinct counts, or null). */
  add(t: number, value: number | string | null, now: number): void {
    if (!inWindow(this.feature.window, t, now)) return;
    if (this.spanMs === undefined) {
      this.accumulate(value);
      return;
    }
    let i = this.times.length;
    while (i > 0 && this.times[i - 1]! > t) i--;
    this.times.splice(i, 0, t);
    this.values.splice(i, 0, value);
  }

  /** The aggregate at `now`: a count (0 when none), or null when no event carried a value. */
  value(now: number): number | null {
    if (this.spanMs !== undefined) {
      this.expire(now);
      this.reset();
      for (const v of this.values) this.accumulate(v);
    }
    switch (this.feature.fn) {
      case 'count':
        return this.count;
      case 'distinct_count':
        return this.distinct!.size;
      case 'sum':
        return this.numeric > 0 ? this.sum : null;
      case 'average':
        return this.numeric > 0 ? this.sum / this.numeric : null;
      case 'min':
        return this.numeric > 0 ? this.min : null;
      case 'max':
        return this.numeric > 0 ? this.max : null;
    }
  }

  /** When the oldest event in the window leaves it. */
  nextChange(now: number): number {
    if (this.spanMs === undefined) return NEVER;
    this.expire(now);
    return this.times.length > 0 ? this.times[0]! + this.spanMs : NEVER;
  }

  /** True when it holds nothing any more (the profile can drop it). */
  isEmpty(now: number): boolean {
    if (this.spanMs === undefined) return this.count === 0;
    this.expire(now);
    return this.times.length === 0;
  }

  private expire(now: number): void {
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! <= now - this.spanMs!) drop++;
    if (drop > 0) {
      this.times.splice(0, drop);
      this.values.splice(0, drop);
    }
  }

  private reset(): void {
    this.count = 0;
    this.sum = 0;
    this.numeric = 0;
    this.min = NEVER;
    this.max = Number.NEGATIVE_INFINITY;
    this.distinct?.clear();
  }

  private accumulate(v: number | string | null): void {
    this.count++;
    if (typeof v === 'number') {
      this.sum += v;
      this.numeric++;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    } else if (typeof v === 'string' && this.distinct) {
      this.distinct.set(v, (this.distinct.get(v) ?? 0) + 1);
    }
  }
}
