import { type MatchingRuleSet, type MatchingRuleSetInput, UserError } from '../../core/index.js';
import { buildBlocks, countBlockPairs, describeRule, forEachBlockPair, keyField } from './blocking.js';
import { buildComparator, EXACT_LEVEL, type FieldComparator } from './comparison-levels.js';
import { ComparisonVectors, VectorCounter, type VectorHistogram } from './comparison-vectors.js';
import { estimateM, estimatePrior } from './em-estimator.js';
import type { FellegiSunterModel, TrainingSession } from './fellegi-sunter-model.js';
import type { MatchRecord } from './match-record.js';
import { parseRuleSet } from './parse-rule-set.js';
import { encodeRecords, type PreparedRecords } from './prepared-records.js';
import type { RecordColumns } from './record-columns.js';
import { countRandomPairLevels, uProbabilities } from './u-estimator.js';

/**
 * Trains a Fellegi-Sunter model on the records themselves, without labels:
 * u from random pairs; m by EM over the pairs of each training blocking rule (for the fields that
 * rule does not block on), averaged over rules; the prior from the expected matches among the
 * candidate pairs. u is then corrected for the few true matches among random pairs and m
 * re-estimated once.
 */
export function trainModel(
  input: readonly MatchRecord[] | PreparedRecords,
  ruleSetInput: MatchingRuleSetInput | MatchingRuleSet,
): FellegiSunterModel {
  const ruleSet = parseRuleSet(ruleSetInput);
  const em = ruleSet.em;
  const { columns } = encodeRecords(input, ruleSet);
  const n = columns.size;
  if (n < 2) throw new UserError('matching_too_few_records', 'training needs at least two records');
  const comparators = ruleSet.fields.map((f) => buildComparator(f, columns));
  const vectors = new ComparisonVectors(comparators);

  const random = countRandomPairLevels(n, comparators, em.uSampleSize, em.seed);
  let u = random.counts.map((c) => uProbabilities(c));

  const sessions = (em.blocking ?? ruleSet.blocking).map((rule, r) => {
    const blocks = buildBlocks(columns, rule);
    const candidatePairs = countBlockPairs(blocks);
    const counter = new VectorCounter(vectors);
    let sampledPairs = 0;
    forEachBlockPair(
      blocks,
      (i, j) => {
        counter.addPair(i, j);
        sampledPairs++;
      },
      { sampleRate: Math.min(1, em.sampleSize / candidatePairs), seed: em.seed + r },
    );
    // A rule that pairs nobody (in these records) estimates nothing.
    const blocked = new Set(rule.on.map(keyField));
    const active = ruleSet.fields.map((f) => sampledPairs > 0 && !blocked.has(f.name));
    return { rule, candidatePairs, sampledPairs, histogram: counter.histogram(), active };
  });
  ruleSet.fields.forEach((f, k) => {
    if (!sessions.some((s) => s.active[k])) {
      throw new UserError(
        'matching_untrainable',
        `no training blocking rule both pairs some records and leaves ${f.name} free, so its m cannot be estimated: add a rule without it`,
        [
          {
            code: 'untrainable',
            path: ['em', 'blocking'],
            message: `no rule with pairs leaves ${f.name} free`,
          },
        ],
      );
    }
  });

  const candidates = candidateHistogram(columns, ruleSet, vectors);
  const allPairs = (n * (n - 1)) / 2;
  let m = comparators.map(initialM);
  let prior = Math.min(0.5, 1 / n);
  let summaries: TrainingSession[] = [];
  // Round 2 repeats EM with u corrected for the matches the first round found among random pairs.
  for (let round = 0; round < 2; round++) {
    const results = sessions.map((s) =>
      estimateM(s.histogram, u, m, s.active, em.initialPrior, {
        maxIterations: em.maxIterations,
        tolerance: em.tolerance,
      }),
    );
    m = comparators.map((c, k) => {
      const mean = new Float64Array(c.labels.length);
      const used = results.filter((_, s) => sessions[s]!.active[k]);
      for (const result of used)
        for (let l = 1; l < mean.length; l++) mean[l]! += result.m[k]![l]! / used.length;
      return mean;
    });
    const logWeights = m.map((mk, k) => mk.map((v, l) => (l === 0 ? 0 : Math.log(v / u[k]![l]!))));
    prior = estimatePrior(candidates.histogram, logWeights, allPairs, prior);
    summaries = sessions.map((s, i) => ({
      rule: describeRule(s.rule),
      candidatePairs: s.candidatePairs,
      sampledPairs: s.sampledPairs,
      estimated: ruleSet.fields.filter((_, k) => s.active[k]).map((f) => f.name),
      iterations: results[i]!.iterations,
      converged: results[i]!.converged,
      matchShare: results[i]!.prior,
    }));
    if (round === 0) u = random.counts.map((c, k) => uProbabilities(c, m[k], prior));
  }

  return {
    ruleSet,
    prior,
    fields: ruleSet.fields.map((f, k) => ({
      name: f.name,
      termFrequency: f.termFrequency,
      levels: comparators[k]!.labels.slice(1).map((label, i) => {
        const mk = m[k]![i + 1]!;
        const uk = u[k]![i + 1]!;
        return { label, m: mk, u: uk, weight: Math.log2(mk / uk) };
      }),
    })),
    training: {
      records: n,
      randomPairs: random.pairs,
      candidatePairs: Math.round(candidates.pairs),
      sessions: summaries,
    },
  };
}

/** Comparison vectors of (a sample of) the candidate pairs matching will score, scaled to all of them. */
function candidateHistogram(
  columns: RecordColumns,
  ruleSet: MatchingRuleSet,
  vectors: ComparisonVectors,
): { histogram: VectorHistogram; pairs: number } {
  const blocks = ruleSet.blocking.map((rule) => buildBlocks(columns, rule));
  // The sum over rules bounds the distinct pairs from above, so the sample is at most sampleSize.
  const upperBound = blocks.reduce((sum, b) => sum + countBlockPairs(b), 0);
  const rate = Math.min(1, ruleSet.em.sampleSize / Math.max(1, upperBound));
  const counter = new VectorCounter(vectors);
  let sampled = 0;
  blocks.forEach((b, r) => {
    forEachBlockPair(
      b,
      (i, j) => {
        counter.addPair(i, j);
        sampled++;
      },
      { earlier: blocks.slice(0, r), sampleRate: rate, seed: ruleSet.em.seed },
    );
  });
  return { histogram: counter.histogram(1 / rate), pairs: sampled / rate };
}

/** Starting m: most matches agree exactly, a few fall in the other bands, fewer disagree. */
function initialM(comparator: FieldComparator): Float64Array {
  const levels = comparator.labels.length;
  const m = new Float64Array(levels);
  const bands = levels - EXACT_LEVEL - 1;
  m[1] = 0.05;
  m[EXACT_LEVEL] = bands > 0 ? 0.8 : 0.95;
  for (let l = EXACT_LEVEL + 1; l < levels; l++) m[l] = 0.15 / bands;
  return m;
}
