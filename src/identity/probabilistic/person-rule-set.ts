import type { MatchingRuleSetInput } from '../../core/index.js';

/**
 * A rule set for person records with the FEBRL fields (given_name, surname, street_number,
 * address_1, address_2, suburb, postcode, state, date_of_birth, soc_sec_id), tuned on the FEBRL
 * data sets without their labels.
 */
export const PERSON_RULE_SET = {
  fields: [
    {
      name: 'given_name',
      comparison: { kind: 'jaro_winkler', thresholds: [0.92, 0.8] },
      termFrequency: true,
      swapWith: 'surname',
    },
    {
      name: 'surname',
      comparison: { kind: 'jaro_winkler', thresholds: [0.92, 0.8] },
      termFrequency: true,
      swapWith: 'given_name',
    },
    { name: 'street_number', comparison: { kind: 'levenshtein', maxEdits: [1] } },
    {
      name: 'address_1',
      comparison: { kind: 'jaro_winkler', thresholds: [0.9, 0.8] },
      swapWith: 'address_2',
    },
    {
      name: 'address_2',
      comparison: { kind: 'jaro_winkler', thresholds: [0.9, 0.8] },
      swapWith: 'address_1',
    },
    { name: 'suburb', comparison: { kind: 'jaro_winkler', thresholds: [0.92, 0.8] }, termFrequency: true },
    { name: 'postcode', comparison: { kind: 'levenshtein', maxEdits: [1] } },
    { name: 'state', comparison: { kind: 'exact' }, termFrequency: true },
    { name: 'date_of_birth', comparison: { kind: 'date', maxEdits: 1, days: [366] } },
    { name: 'soc_sec_id', comparison: { kind: 'levenshtein', maxEdits: [1, 2] } },
  ],
  // Each true pair needs one rule it agrees on; together these find 99.5% of FEBRL's. A block of
  // more than 5,000 records (a placeholder value such as 19000101) is skipped rather than paired.
  blocking: [
    { on: ['soc_sec_id'], maxBlockSize: 5000 },
    { on: ['given_name', 'surname'], maxBlockSize: 5000 },
    { on: ['date_of_birth'], maxBlockSize: 5000 },
    { on: ['postcode', 'street_number'], maxBlockSize: 5000 },
    { on: ['surname', 'suburb'], maxBlockSize: 5000 },
  ],
  threshold: { kind: 'match_weight', value: 0 },
  reviewBand: 4,
} satisfies MatchingRuleSetInput;
