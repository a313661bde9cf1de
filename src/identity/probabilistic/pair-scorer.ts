import { ELSE_LEVEL, EXACT_LEVEL, type FieldComparator, type QuickLevels } from './comparison-levels.js';
import type { RecordColumns } from './record-columns.js';

/** Weights are summed in fixed point (1/1024 bit): integer arithmetic keeps the hot loop allocation-free. */
const SCALE = 1024;

/** What `score` answers for a pair that cannot reach the floor. */
export const BELOW_FLOOR = -0x7fffffff;

export interface ScoringWeights {
  /** Per field, the weight of each level code. */
  levels: readonly Float64Array[];
  /** Per field with term frequencies, the weight of an exact agreement on each value code. */
  exactByValue: readonly (Float64Array | undefined)[];
  /** The prior's weight, where every pair starts. */
  start: number;
  /** Pairs below this weight are of no interest. */
  floor: number;
}

/**
 * Scores candidate pairs fast enough for tens of millions of them. Value codes settle most fields
 * (missing, exact, swapped) and cheap character bounds most of the rest (too far apart for any
 * band). Each field still open counts at the best weight its bounds allow; the string comparisons
 * then run in order of how much they can move the weight, and stop as soon as the pair can no
 * longer reach the floor. Most candidate pairs never compare a string.
 */
export class PairScorer {
  private readonly levelWeights: Int32Array[];
  private readonly exactByValue: (Int32Array | undefined)[];
  /** Per field and band level, the best weight of that band, a later one, or else. */
  private readonly bestFrom: Int32Array[];
  private readonly openOrder: Int32Array;
  private readonly start: number;
  private readonly floor: number;
  private readonly levels: Int32Array;
  private readonly optimistic: Int32Array;
  private readonly open: Uint8Array;
  private readonly slots: Int32Array;

  constructor(
    private readonly comparators: readonly FieldComparator[],
    private readonly quick: QuickLevels,
    private readonly columns: RecordColumns,
    weights: ScoringWeights,
  ) {
    const fixed = (w: Float64Array) => Int32Array.from(w, (x) => Math.round(x * SCALE));
    this.levelWeights = weights.levels.map(fixed);
    this.exactByValue = weights.exactByValue.map((w) => (w === undefined ? undefined : fixed(w)));
    this.bestFrom = comparators.map((c, k) => {
      const level = this.levelWeights[k]!;
      const best = new Int32Array(c.labels.length).fill(level[ELSE_LEVEL]!);
      for (let l = c.labels.length - 1; l > ELSE_LEVEL && c.openLevels.includes(l); l--) {
        best[l] = Math.max(level[l]!, l + 1 < c.labels.length ? best[l + 1]! : best[l]!);
      }
      return best;
    });
    const spread = comparators.map(
      (c, k) => Math.max(...c.openLevels.map((l) => this.bestFrom[k]![l]!)) - this.bestFrom[k]![ELSE_LEVEL]!,
    );
    this.openOrder = Int32Array.from(
      comparators
        .map((_, k) => k)
        .filter((k) => comparators[k]!.openLevels.length > 0)
        .sort((a, b) => spread[b]! - spread[a]!),
    );
    this.start = Math.round(weights.start * SCALE);
    // Rounding moves each field by at most half a unit: keep that much slack below the floor.
    this.floor = Math.floor(weights.floor * SCALE) - comparators.length;
    this.levels = new Int32Array(comparators.length);
    this.optimistic = new Int32Array(comparators.length);
    this.open = new Uint8Array(comparators.length);
    this.slots = Int32Array.from(comparators, (c) => columns.slot(c.field));
  }

  /**
   * The match weight of records `left` and `right` in 1/1024 bit, or `BELOW_FLOOR`. Approximate
   * (fixed point): recompute the exact weight of the pairs kept.
   */
  score(left: number, right: number): number {
    const { levels, optimistic, open, comparators, levelWeights, bestFrom } = this;
    this.quick.fill(left, right, levels);
    let w = this.start;
    let upper = this.start;
    for (let k = 0; k < levels.length; k++) {
      let level = levels[k]!;
      if (level < 0) {
        level = comparators[k]!.reachableLevel(left, right);
        if (level > EXACT_LEVEL) {
          open[k] = 1;
          optimistic[k] = bestFrom[k]![level]!;
          upper += optimistic[k]!;
          continue;
        }
      }
      open[k] = 0;
      const byValue = this.exactByValue[k];
      const wk =
        level === EXACT_LEVEL && byValue !== undefined
          ? byValue[this.columns.codes[left * this.columns.stride + this.slots[k]!]!]!
          : levelWeights[k]![level]!;
      w += wk;
      upper += wk;
    }
    const order = this.openOrder;
    for (let x = 0; x < order.length; x++) {
      if (upper < this.floor) return BELOW_FLOOR;
      const k = order[x]!;
      if (open[k] === 0) continue;
      // Else or a band: never exact here, so no term frequencies either.
      const wk = levelWeights[k]![comparators[k]!.level(left, right)]!;
      w += wk;
      upper += wk - optimistic[k]!;
    }
    return w >= this.floor ? w : BELOW_FLOOR;
  }
}
