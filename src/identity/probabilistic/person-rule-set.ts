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
  blocking: [
    { on: ['soc_sec_id'] },
    { on: ['given_name', 'surname'] },
    { on: ['date_of_birth'] },
    { on: ['postcode', 'street_number'] },
    { on: ['surname', 'suburb'] },
  ],
  threshold: { kind: 'match_weight', value: 0 },
  reviewBand: 4,
} satisfies MatchingRuleSetInput;
