import type { EventFeature } from '../segment-plan.js';
import { inWindow } from '../time-window.js';

/**
 * One profile's running totals for one event feature over all time or fixed dates (windowed
 * features read a `MatchedEvents` log instead): enough to answer its aggregate at any later time.
 */
export class EventAggregateState {
  private count = 0;
  private sum = 0;
  private numeric = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private distinct: Set<string> | undefined;

  constructor(private readonly feature: EventFeature) {
    if (feature.window.kind === 'last') throw new Error('a windowed feature reads its matched events');
    if (feature.fn === 'distinct_count') this.distinct = new Set();
  }

  /** Adds a matching event at `t` carrying `value` (a number, a text for distinct counts, or null). */
  add(t: number, value: number | string | null, now: number): void {
    if (!inWindow(this.feature.window, t, now)) return;
    this.count++;
    if (typeof value === 'number') {
      this.sum += value;
      this.numeric++;
      if (value < this.min) this.min = value;
      if (value > this.max) this.max = value;
    } else if (typeof value === 'string' && this.distinct) {
      this.distinct.add(value);
    }
  }

  /** The aggregate: a count (0 when none), or null when no event carried a value. */
  value(): number | null {
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
}
