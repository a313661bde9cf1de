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
