import { assertNever, durationMs, type Window } from '../core/index.js';

/** The exclusive start of a `last` window at `now`: an event at `t` is in it when `t > start`. */
export function windowStart(w: Extract<Window, { kind: 'last' }>, now: number): number {
  return now - durationMs(w);
}

/** Whether an event at `t` (ms) counts for window `w` at `now`. */
export function inWindow(w: Window, t: number, now: number): boolean {
  switch (w.kind) {
    case 'ever':
      return true;
    case 'last':
      return t > windowStart(w, now);
    case 'between':
      return t >= Date.parse(w.from) && t < Date.parse(w.to);
    default:
      return assertNever(w);
  }
}

/** The earliest time (ms) an event can have and count for window `w` at `now`; undefined: any. */
export function windowFrom(w: Window, now: number): number | undefined {
  switch (w.kind) {
    case 'ever':
      return undefined;
    case 'last':
      return windowStart(w, now);
    case 'between':
      return Date.parse(w.from);
    default:
      return assertNever(w);
  }
}
