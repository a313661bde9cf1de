import { durationMs } from '../../core/index.js';
import type { SequenceFeature } from '../segment-plan.js';
import { inWindow } from '../time-window.js';

const NEVER = Number.POSITIVE_INFINITY;

interface Occurrence {
  t: number;
  seq: number;
}

/**
 * One profile's occurrences of a sequence's two steps, enough to answer "A then B within T" (or
 * "A not followed by B within T") at any later time, late events included. Occurrences that can
 * no longer matter (before a `last` window) are dropped.
 */
export class SequenceState {
  private readonly firsts: Occurrence[] = [];
  private readonly thens: Occurrence[] = [];
  private readonly spanMs: number | undefined;

  constructor(private readonly feature: SequenceFeature) {
    this.spanMs = feature.window.kind === 'last' ? durationMs(feature.window) : undefined;
  }

  addFirst(t: number, seq: number, now: number): void {
    if (inWindow(this.feature.window, t, now)) insert(this.firsts, { t, seq });
  }

  addThen(t: number, seq: number, now: number): void {
    const w = this.feature.window;
    // A second step matters only after a first step that counts.
    if (w.kind === 'last' && t <= now - this.spanMs!) return;
    if (w.kind === 'between' && (t < Date.parse(w.from) || t > Date.parse(w.to) + this.feature.withinMs))
      return;
    insert(this.thens, { t, seq });
  }

  value(now: number): boolean {
    this.expire(now);
    const within = this.feature.withinMs;
    for (const a of this.firsts) {
      if (!inWindow(this.feature.window, a.t, now)) continue;
      const matched = this.followedWithin(a, within);
      if (this.feature.followed ? matched : !matched && a.t + within <= now) return true;
    }
    return false;
  }

  /** When a first step leaves the window, or (abandonment) its time to be followed runs out. */
  nextChange(now: number): number {
    this.expire(now);
    let next = NEVER;
    for (const a of this.firsts) {
      if (this.spanMs !== undefined && a.t + this.spanMs > now) next = Math.min(next, a.t + this.spanMs);
      if (!this.feature.followed && a.t + this.feature.withinMs > now)
        next = Math.min(next, a.t + this.feature.withinMs);
    }
    return next;
  }

  isEmpty(now: number): boolean {
    this.expire(now);
    return this.firsts.length === 0 && this.thens.length === 0;
  }

  private followedWithin(a: Occurrence, within: number): boolean {
    let lo = 0;
    let hi = this.thens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.thens[mid]!.t < a.t) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.thens.length && this.thens[i]!.t <= a.t + within; i++) {
      if (this.thens[i]!.seq !== a.seq) return true;
    }
    return false;
  }

  private expire(now: number): void {
    if (this.spanMs === undefined) return;
    const start = now - this.spanMs;
    dropThrough(this.firsts, start);
    dropThrough(this.thens, start);
  }
}

function insert(list: Occurrence[], o: Occurrence): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.t > o.t) i--;
  // Events mostly arrive in time order: appended.
  if (i === list.length) list.push(o);
  else list.splice(i, 0, o);
}

function dropThrough(list: Occurrence[], start: number): void {
  let drop = 0;
  while (drop < list.length && list[drop]!.t <= start) drop++;
  if (drop > 0) list.splice(0, drop);
}
