import { buildBlocks, forEachBlockPair } from './blocking.js';
import { buildComparator, EXACT_LEVEL, QuickLevels } from './comparison-levels.js';
import {
  type FellegiSunterModel,
  levelWeights,
  priorWeight,
  probabilityOf,
  thresholdWeight,
} from './fellegi-sunter-model.js';
import { FieldWeights } from './field-weights.js';
import type { MatchRecord, ScoredPair } from './match-record.js';
import { PairBuffer } from './pair-buffer.js';
import { BELOW_FLOOR, PairScorer } from './pair-scorer.js';
import { encodeRecords, type PreparedRecords } from './prepared-records.js';
import { termFrequencyWeights } from './term-frequencies.js';

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
  const scorer = new PairScorer(comparators, new QuickLevels(ruleSet.fields, columns), columns, {
    levels: weights,
    exactByValue: frequencyWeights,
    start,
    floor,
  });

  const kept = new PairBuffer();
  let candidatePairs = 0;
  let skippedBlocks = 0;
  const blocks = ruleSet.blocking.map((rule) => buildBlocks(columns, rule));
  blocks.forEach((b, r) => {
    const result = forEachBlockPair(
      b,
      (i, j) => {
        candidatePairs++;
        if (scorer.score(i, j) !== BELOW_FLOOR) kept.push(i, j);
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
    const fields = comparators.map((c, k) => explain.get(k, c.level(i, j), i));
    // The exact weight; the scorer's fixed point kept a little slack below the floor.
    const weight = fields.reduce((sum, f) => sum + f.weight, start);
    if (weight < floor) continue;
    const pair: ScoredPair = {
      leftId: records[i]!.id,
      rightId: records[j]!.id,
      weight,
      probability: probabilityOf(weight),
      fields,
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
