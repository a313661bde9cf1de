import { buildBlocks, forEachBlockPair } from './blocking.js';
import { buildComparator, ELSE_LEVEL, EXACT_LEVEL, type FieldComparator } from './comparison-levels.js';
import {
  type FellegiSunterModel,
  levelWeights,
  priorWeight,
  probabilityOf,
  thresholdWeight,
} from './fellegi-sunter-model.js';
import type { FieldWeight, MatchRecord, ScoredPair } from './match-record.js';
import { encodeRecords, type PreparedRecords } from './prepared-records.js';

export interface MatchResult {
  /** Pairs at or above the threshold, strongest first: they merge like deterministic links. */
  matches: ScoredPair[];
  /** Pairs within `reviewBand` below the threshold, strongest first: listed for a person to decide. */
  review: ScoredPair[];
  stats: {
    records: number;
    /** Distinct pairs compared (those sharing a block of at least one rule). */
    candidatePairs: number;
    /** Blocks left out for exceeding their rule's `maxBlockSize`. */
    skippedBlocks: number;
  };
}

/**
 * Scores every candidate pair of `records` with a trained model and keeps the matches and the
 * pairs near the threshold. Exact agreement on a `termFrequency` field weighs log2(m / f), f the
 * value's frequency among these records. Memory is linear in the records plus the pairs kept.
 */
export function matchRecords(
  input: readonly MatchRecord[] | PreparedRecords,
  model: FellegiSunterModel,
): MatchResult {
  const { ruleSet } = model;
  const { records, columns } = encodeRecords(input, ruleSet);
  const comparators = ruleSet.fields.map((f) => buildComparator(f, columns));
  const weights = levelWeights(model);
  const { codes, stride } = columns;
  const slots = ruleSet.fields.map((f) => columns.slot(f.name));
  const frequencyWeights = model.fields.map((f) =>
    f.termFrequency
      ? termFrequencyWeights(
          columns.column(f.name),
          columns.dictionary(f.name).values.length,
          f.levels[EXACT_LEVEL - 1]!.m,
        )
      : undefined,
  );
  const threshold = thresholdWeight(ruleSet);
  const floor = threshold - ruleSet.reviewBand;
  const start = priorWeight(model);

  const weightOf = (k: number, level: number, left: number) => {
    const tf = frequencyWeights[k];
    return level === EXACT_LEVEL && tf !== undefined
      ? tf[codes[left * stride + slots[k]!]!]!
      : weights[k]![level]!;
  };
  // Value codes settle most fields (missing, exact, swapped) and cheap character bounds most of
  // the rest (too far apart for any band). Each field still open counts at the best weight its
  // bounds allow; the string comparisons then run in order of how much they can move the weight,
  // until the pair can no longer reach the floor. Most candidate pairs never compare a string.
  const fields = comparators.length;
  const bestFrom = comparators.map((c, k) => {
    const best = new Float64Array(c.labels.length).fill(weights[k]![ELSE_LEVEL]!);
    for (let l = c.labels.length - 1; l > ELSE_LEVEL && c.openLevels.includes(l); l--) {
      best[l] = Math.max(weights[k]![l]!, l + 1 < c.labels.length ? best[l + 1]! : best[l]!);
    }
    return best;
  });
  const spread = comparators.map(
    (c, k) => Math.max(...c.openLevels.map((l) => bestFrom[k]![l]!)) - bestFrom[k]![ELSE_LEVEL]!,
  );
  const openOrder = comparators
    .map((_, k) => k)
    .filter((k) => comparators[k]!.openLevels.length > 0)
    .sort((a, b) => spread[b]! - spread[a]!);
  const optimistic = new Float64Array(fields);
  const open = new Uint8Array(fields);

  const kept = new PairBuffer();
  let candidatePairs = 0;
  let skippedBlocks = 0;
  const blocks = ruleSet.blocking.map((rule) => buildBlocks(columns, rule));
  blocks.forEach((b, r) => {
    const result = forEachBlockPair(
      b,
      (i, j) => {
        candidatePairs++;
        let w = start;
        let upper = start;
        for (let k = 0; k < fields; k++) {
          const comparator = comparators[k]!;
          let level = comparator.quickLevel(i, j);
          if (level < 0) {
            level = comparator.reachableLevel(i, j);
            if (level > EXACT_LEVEL) {
              open[k] = 1;
              optimistic[k] = bestFrom[k]![level]!;
              upper += optimistic[k]!;
              continue;
            }
          }
          open[k] = 0;
          const wk = weightOf(k, level, i);
          w += wk;
          upper += wk;
        }
        for (let x = 0; x < openOrder.length; x++) {
          if (upper < floor) return;
          const k = openOrder[x]!;
          if (open[k] === 0) continue;
          const wk = weightOf(k, comparators[k]!.level(i, j), i);
          w += wk;
          upper += wk - optimistic[k]!;
        }
        if (w >= floor) kept.push(i, j, w);
      },
      { earlier: blocks.slice(0, r) },
    );
    skippedBlocks += result.skippedBlocks;
  });

  const explain = new FieldWeights(comparators, weightOf, (k, left) => codes[left * stride + slots[k]!]!);
  const matches: ScoredPair[] = [];
  const review: ScoredPair[] = [];
  for (let p = 0; p < kept.length; p++) {
    const i = kept.left[p]!;
    const j = kept.right[p]!;
    const weight = kept.weight[p]!;
    const pair: ScoredPair = {
      leftId: records[i]!.id,
      rightId: records[j]!.id,
      weight,
      probability: probabilityOf(weight),
      fields: comparators.map((c, k) => explain.get(k, c.level(i, j), i)),
    };
    (weight >= threshold ? matches : review).push(pair);
  }
  const strongestFirst = (a: ScoredPair, b: ScoredPair) => b.weight - a.weight;
  return {
    matches: matches.sort(strongestFirst),
    review: review.sort(strongestFirst),
    stats: { records: records.length, candidatePairs, skippedBlocks },
  };
}

/** Per value code, the weight of an exact agreement on that value: log2(m_exact / frequency). */
function termFrequencyWeights(codes: Int32Array, valueCount: number, mExact: number): Float64Array {
  const counts = new Int32Array(valueCount);
  let present = 0;
  for (const code of codes) {
    if (code < 0) continue;
    counts[code]!++;
    present++;
  }
  const weights = new Float64Array(valueCount);
  for (let v = 0; v < valueCount; v++) weights[v] = Math.log2((mExact * present) / counts[v]!);
  return weights;
}

/**
 * The `{ field, level, weight }` entries of kept pairs, shared between pairs (frozen): hundreds of
 * thousands of matches then cost one small array each rather than a dozen objects.
 */
class FieldWeights {
  private readonly shared = new Map<number, FieldWeight>();

  constructor(
    private readonly comparators: readonly FieldComparator[],
    private readonly weightOf: (k: number, level: number, left: number) => number,
    private readonly valueCode: (k: number, left: number) => number,
  ) {}

  get(k: number, level: number, left: number): FieldWeight {
    const comparator = this.comparators[k]!;
    // An exact agreement may weigh by its value (term frequencies): one entry per value then.
    const variant = level === EXACT_LEVEL ? this.valueCode(k, left) + 1 : 0;
    const key = (variant * comparator.labels.length + level) * this.comparators.length + k;
    let entry = this.shared.get(key);
    if (entry === undefined) {
      entry = Object.freeze({
        field: comparator.field,
        level: comparator.labels[level]!,
        weight: this.weightOf(k, level, left),
      });
      this.shared.set(key, entry);
    }
    return entry;
  }
}

/** Growable parallel arrays of kept pairs (left, right, weight). */
class PairBuffer {
  left = new Int32Array(1024);
  right = new Int32Array(1024);
  weight = new Float64Array(1024);
  length = 0;

  push(left: number, right: number, weight: number): void {
    if (this.length === this.left.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T, b: T): T => {
        b.set(a);
        return b;
      };
      this.left = grow(this.left, new Int32Array(this.length * 2));
      this.right = grow(this.right, new Int32Array(this.length * 2));
      this.weight = grow(this.weight, new Float64Array(this.length * 2));
    }
    this.left[this.length] = left;
    this.right[this.length] = right;
    this.weight[this.length] = weight;
    this.length++;
  }
}
