import { assertNever } from '../../core/index.js';
import { eventNamesOf, type PlanNode, type SegmentPlan } from '../segment-plan.js';

/** Which way one more event can move a condition: only to true, only to false, or either. */
export const ENTERS_ONLY = 1;
export const EXITS_ONLY = -1;
export const EITHER = 0;
/** The condition reads nothing the event feeds. */
const UNMOVED = 2;

/**
 * Per event name, per segment (by plan index), which way one more event of that name can move
 * the segment's condition at a fixed time. A count only grows with an event, so "did it 3+ times"
 * can only become true and "did not do it" only false: a profile already in (or out of) such a
 * segment needs no test. Time moving windows is not covered here: timers handle it.
 *
 * @example "Order Completed 2+ in 7 days" gives `ENTERS_ONLY` for Order Completed
 */
export function eventDirections(plan: SegmentPlan, streaming: readonly number[]): Map<string, Int8Array> {
  const out = new Map<string, Int8Array>();
  for (const name of eventNamesOf(plan)) {
    const directions = new Int8Array(plan.segments.length);
    for (const s of streaming) {
      const d = directionOf(plan, plan.segments[s]!.node, name);
      directions[s] = d === UNMOVED ? EITHER : d;
    }
    out.set(name, directions);
  }
  return out;
}

function directionOf(plan: SegmentPlan, n: PlanNode, event: string): number {
  switch (n.kind) {
    case 'all':
    case 'any': {
      let d = UNMOVED;
      for (const x of n.nodes) {
        const part = directionOf(plan, x, event);
        if (part === UNMOVED) continue;
        if (d === UNMOVED) d = part;
        else if (d !== part) return EITHER;
      }
      return d;
    }
    case 'not': {
      const d = directionOf(plan, n.node, event);
      return d === UNMOVED || d === EITHER ? d : -d;
    }
    case 'value':
    case 'rank':
      return UNMOVED;
    case 'measure': {
      const f = plan.events[n.feature]!;
      if (f.event !== event) return UNMOVED;
      // Only counts never shrink with one more event (a sum may meet a negative value).
      if (f.fn !== 'count' && f.fn !== 'distinct_count') return EITHER;
      switch (n.test.operator) {
        case 'at_least':
        case 'greater_than':
          return ENTERS_ONLY;
        case 'at_most':
        case 'less_than':
          return EXITS_ONLY;
        case 'exactly':
        case 'between':
          return EITHER;
        default:
          return assertNever(n.test);
      }
    }
    case 'sequence': {
      const q = plan.sequences[n.feature]!;
      return q.first.event === event || q.next.event === event ? EITHER : UNMOVED;
    }
    default:
      return assertNever(n);
  }
}
