/**
 * Probabilistic record matching (Fellegi-Sunter) for sources that share no key. Pure computation:
 *
 * ```ts
 * const prepared = prepareRecords(records, ruleSet); // optional: encode once for both steps
 * const model = trainModel(prepared, ruleSet); // unsupervised: EM on the records themselves
 * const { matches, review } = matchRecords(prepared, model);
 * ```
 *
 * `matches` (at or above the rule set's threshold) are links to merge like deterministic ones,
 * under the same guardrails; `review` lists the pairs just below it with their per-field weights.
 * The model is plain JSON-safe data and can be stored and reused.
 */
export { describeRule } from './blocking.js';
export { dayNumber } from './comparison-levels.js';
export { editDistance } from './edit-distance.js';
export {
  type FellegiSunterModel,
  type ModelField,
  type ModelLevel,
  priorWeight,
  probabilityOf,
  type TrainingSession,
  thresholdWeight,
} from './fellegi-sunter-model.js';
export { jaro, jaroWinkler } from './jaro-winkler.js';
export type { FieldWeight, MatchRecord, ScoredPair } from './match-record.js';
export { type PairwiseAccuracy, pairwiseAccuracy } from './pairwise-accuracy.js';
export { parseRuleSet } from './parse-rule-set.js';
export { PERSON_RULE_SET } from './person-rule-set.js';
export { type PreparedRecords, prepareRecords } from './prepared-records.js';
export { type MatchResult, matchRecords } from './probabilistic-matcher.js';
export { soundex } from './soundex.js';
export { trainModel } from './train-model.js';
