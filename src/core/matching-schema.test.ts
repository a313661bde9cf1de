import { describe, expect, it } from 'vitest';
import { MatchingRuleSetSchema } from './matching-schema.js';

const base = {
  fields: [
    {
      name: 'given_name',
      comparison: { kind: 'jaro_winkler', thresholds: [0.92, 0.85] },
      swapWith: 'surname',
    },
    { name: 'surname', comparison: { kind: 'jaro_winkler', thresholds: [0.92] } },
    { name: 'dob', comparison: { kind: 'date', days: [31, 366] } },
  ],
  blocking: [{ on: ['dob'] }, { on: [{ field: 'surname', transform: { kind: 'soundex' } }] }],
};

const paths = (input: unknown) => {
  const result = MatchingRuleSetSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
};

describe('matching rule set schema', () => {
  it('fills in the defaults', () => {
    const set = MatchingRuleSetSchema.parse(base);
    expect(set.threshold).toEqual({ kind: 'match_weight', value: 0 });
    expect(set.reviewBand).toBe(4);
    expect(set.em).toMatchObject({
      maxIterations: 30,
      sampleSize: 300_000,
      uSampleSize: 1_000_000,
      seed: 1,
    });
    expect(set.fields[0]!.termFrequency).toBe(false);
  });

  it('points at each problem', () => {
    expect(
      paths({
        ...base,
        fields: [
          { name: 'a', comparison: { kind: 'jaro_winkler', thresholds: [0.8, 0.9] } },
          { name: 'b', comparison: { kind: 'levenshtein', maxEdits: [2, 1] }, swapWith: 'c' },
          { name: 'a', comparison: { kind: 'numeric' } },
          { name: 'd', comparison: { kind: 'soundex' } },
        ],
        blocking: [{ on: ['zip'] }],
        threshold: { kind: 'probability', value: 1 },
      }),
    ).toEqual([
      'fields.0.comparison.thresholds',
      'fields.1.comparison.maxEdits',
      'fields.2.comparison',
      'fields.3.comparison.kind',
      'threshold.value',
    ]);
    expect(paths({ ...base, blocking: [{ on: ['zip'] }] })).toEqual(['blocking.0.on.0']);
    expect(
      paths({ ...base, fields: [...base.fields, { name: 'dob', comparison: { kind: 'exact' } }] }),
    ).toEqual(['fields.3.name']);
  });
});
