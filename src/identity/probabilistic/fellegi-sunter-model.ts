import { assertNever, type MatchingRuleSet } from '../../core/index.js';

/** One comparison level of a field: m = P(level | same person), u = P(level | different people). */
export interface ModelLevel {
  label: string;
  m: number;
  u: number;
  /** log2(m / u): what falling in this level adds to a pair's match weight. */
  weight: number;
}

export interface ModelField {
  name: string;
  termFrequency: boolean;
  /** Levels in code order from `else` (code 1); a missing value (`null`, code 0) weighs 0. */
  levels: ModelLevel[];
}

/** What one EM session (one training blocking rule) did. */
export interface TrainingSession {
  rule: string;
  candidatePairs: number;
  sampledPairs: number;
  /** Fields whose m this session estimated (those its rule does not block on). */
  estimated: string[];
  iterations: number;
  converged: boolean;
  /** The share of matches EM found among the session's pairs. */
  matchShare: number;
}

/** A trained Fellegi-Sunter model: plain data, safe to store as JSON and reuse on new records. */
export interface FellegiSunterModel {
  ruleSet: MatchingRuleSet;
  /** Probability that two records drawn at random are the same person (λ). */
  prior: number;
  fields: ModelField[];
  training: {
    records: number;
    randomPairs: number;
    candidatePairs: number;
    sessions: TrainingSession[];
  };
}

/** log2 of the prior odds: the match weight of a pair before any field is compared. */
export function priorWeight(model: FellegiSunterModel): number {
  return Math.log2(model.prior / (1 - model.prior));
}

/** The rule set's threshold as a match weight (`probability` p → log2(p / (1 - p))). */
export function thresholdWeight(ruleSet: MatchingRuleSet): number {
  const t = ruleSet.threshold;
  switch (t.kind) {
    case 'match_weight':
      return t.value;
    case 'probability':
      return Math.log2(t.value / (1 - t.value));
    default:
      return assertNever(t);
  }
}

/** Probability of a match from a match weight: 2^w / (1 + 2^w). */
export function probabilityOf(weight: number): number {
  return 1 / (1 + 2 ** -weight);
}

/** Per field, the weight of each level code (code 0, a missing value, weighs 0). */
export function levelWeights(model: FellegiSunterModel): Float64Array[] {
  return model.fields.map((f) => Float64Array.from([0, ...f.levels.map((l) => l.weight)]));
}
