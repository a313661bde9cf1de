import { buildBlocks, forEachBlockPair } from './blocking.js';
import { buildComparator, ELSE_LEVEL, EXACT_LEVEL, NULL_LEVEL } from './comparison-levels.js';
import {
  type FellegiSunterModel,
  levelWeights,
  priorWeight,
  probabilityOf,
  thresholdWeight,
} from './fellegi-sunter-model.js';
import type { MatchRecord, ScoredPair } from './match-record.js';
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

  // Value codes alone settle most fields (missing, exact, swapped); the string comparisons of the
  // rest run in order of how much they can move the weight, until the pair cannot reach the floor.
  const fields = comparators.length;
  const openBest = comparators.map((c, k) => Math.max(...c.openLevels.map((l) => weights[k]![l]!)));
  const openOrder = comparators
    .map((_, k) => k)
    .filter((k) => comparators[k]!.openLevels.length > 0)
    .sort((a, b) => openBest[b]! - weights[b]![ELSE_LEVEL]! - (openBest[a]! - weights[a]![ELSE_LEVEL]!));
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
          const level = comparators[k]!.quickLevel(i, j);
          if (level < 0) {
            open[k] = 1;
            upper += openBest[k]!;
            continue;
          }
          open[k] = 0;
          const tf = frequencyWeights[k];
          const wk =
            level === EXACT_LEVEL && tf !== undefined
              ? tf[codes[i * stride + slots[k]!]!]!
              : weights[k]![level]!;
          w += wk;
          upper += wk;
        }
        for (let x = 0; x < openOrder.length; x++) {
          if (upper < floor) return;
          const k = openOrder[x]!;
          if (open[k] === 0) continue;
          const wk = weights[k]![comparators[k]!.level(i, j)]!;
          w += wk;
          upper += wk - openBest[k]!;
        }
        if (w >= floor) kept.push(i, j, w);
      },
      { earlier: blocks.slice(0, r) },
    );
    skippedBlocks += result.skippedBlocks;
  });

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
      fields: comparators.map((c, k) => {
        const level = c.level(i, j);
        const tf = frequencyWeights[k];
        return {
          field: c.field,
          level: c.labels[level]!,
          weight:
            level === NULL_LEVEL
              ? 0
              : level === EXACT_LEVEL && tf
                ? tf[codes[i * stride + slots[k]!]!]!
                : weights[k]![level]!,
        };
      }),
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
