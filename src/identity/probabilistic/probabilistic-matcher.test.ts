import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { type MatchingRuleSetInput, UserError } from '../../core/index.js';
import {
  type MatchRecord,
  matchRecords,
  PERSON_RULE_SET,
  pairwiseAccuracy,
  prepareRecords,
  priorWeight,
  trainModel,
} from './index.js';

// ../shared/data from the repository root; never copied into the repository.
const DATASET1 = new URL('../../../../shared/data/febrl/dataset1.csv', import.meta.url);

function readFebrl(url: URL): { records: MatchRecord[]; entityOf: Map<string, string> } {
  const rows = parse(readFileSync(url, 'utf8'), { columns: true, trim: true }) as Record<string, string>[];
  const entityOf = new Map<string, string>();
  const records = rows.map(({ rec_id: id, ...fields }) => {
    entityOf.set(id!, id!.split('-')[1]!);
    return { id: id!, fields };
  });
  return { records, entityOf };
}

describe('probabilistic matching on FEBRL dataset1', () => {
  const { records, entityOf } = readFebrl(DATASET1);
  // Labels (rec_id) stay out of the fields: training is unsupervised.
  const prepared = prepareRecords(records, PERSON_RULE_SET);
  const model = trainModel(prepared, PERSON_RULE_SET);
  const result = matchRecords(prepared, model);

  it('finds the duplicates with pairwise F1 of at least 0.95', () => {
    const accuracy = pairwiseAccuracy(entityOf, result.matches);
    expect(accuracy.truePairs).toBe(500);
    expect(accuracy.f1).toBeGreaterThanOrEqual(0.95);
  });

  it('learns weights that make sense: agreeing on a rare identifier weighs more than on the state', () => {
    const weight = (field: string, level: string) =>
      model.fields.find((f) => f.name === field)!.levels.find((l) => l.label === level)!.weight;
    expect(weight('soc_sec_id', 'exact')).toBeGreaterThan(weight('state', 'exact') + 10);
    expect(weight('date_of_birth', 'exact')).toBeGreaterThan(0);
    expect(weight('surname', 'else')).toBeLessThan(0);
    expect(model.prior).toBeGreaterThan(0.0005); // 500 duplicate pairs among 499,500
    expect(model.prior).toBeLessThan(0.002);
    expect(model.training.sessions.every((s) => s.converged)).toBe(true);
  });

  it('explains every pair: the prior plus the field weights is the match weight', () => {
    for (const pair of [...result.matches.slice(0, 50), ...result.review]) {
      const sum = priorWeight(model) + pair.fields.reduce((s, f) => s + f.weight, 0);
      expect(pair.weight).toBeCloseTo(sum, 9);
      expect(pair.probability).toBeCloseTo(1 / (1 + 2 ** -pair.weight), 12);
      expect(pair.fields.map((f) => f.field)).toEqual(model.fields.map((f) => f.name));
    }
    expect(result.matches.every((p) => p.weight >= 0)).toBe(true);
  });

  it('lists pairs within the review band below the threshold, not as matches', () => {
    // A threshold just above the 10th weakest match: those ten move to review.
    const weakest = result.matches.map((p) => p.weight).sort((a, b) => a - b);
    const value = weakest[9]! + 1e-9;
    const ruleSet = {
      ...model.ruleSet,
      threshold: { kind: 'match_weight' as const, value },
      reviewBand: 100,
    };
    const { matches, review } = matchRecords(prepared, { ...model, ruleSet });
    expect(matches.length).toBe(result.matches.length - 10);
    expect(matches.every((p) => p.weight >= value)).toBe(true);
    expect(review.length).toBeGreaterThanOrEqual(10);
    expect(review.every((p) => p.weight < value && p.weight >= value - 100)).toBe(true);
    expect(review.map((p) => p.weight)).toEqual(review.map((p) => p.weight).sort((a, b) => b - a));
  });

  it('takes the threshold as a probability too', () => {
    const ruleSet = { ...model.ruleSet, threshold: { kind: 'probability' as const, value: 0.5 } };
    expect(matchRecords(prepared, { ...model, ruleSet }).matches.length).toBe(result.matches.length);
  });

  it('gives the same model and matches from plain records as from prepared ones', () => {
    const again = trainModel(records, PERSON_RULE_SET);
    expect(again.fields).toEqual(model.fields);
    expect(matchRecords(records, again).matches.length).toBe(result.matches.length);
  });
});

describe('rule set problems', () => {
  const records: MatchRecord[] = [
    { id: 'a', fields: { name: 'ann', city: 'x' } },
    { id: 'b', fields: { name: 'ann', city: 'y' } },
  ];

  it('refuses a field no training rule leaves free to estimate', () => {
    const ruleSet: MatchingRuleSetInput = {
      fields: [
        { name: 'name', comparison: { kind: 'exact' } },
        { name: 'city', comparison: { kind: 'exact' } },
      ],
      blocking: [{ on: ['name', 'city'] }],
    };
    expect(() => trainModel(records, ruleSet)).toThrow(UserError);
  });

  it('refuses a field only rules that pair nobody leave free', () => {
    const ruleSet: MatchingRuleSetInput = {
      fields: [
        { name: 'name', comparison: { kind: 'exact' } },
        { name: 'city', comparison: { kind: 'exact' } },
      ],
      blocking: [{ on: ['name'] }, { on: ['city'] }],
    };
    // The city rule pairs nobody (x, y), so nothing estimates the name's m.
    expect(() => trainModel(records, ruleSet)).toThrow(/leaves name free/);
  });

  it('refuses an invalid rule set with every issue', () => {
    try {
      trainModel(records, {
        fields: [{ name: 'name', comparison: { kind: 'jaro_winkler', thresholds: [0.8, 0.9] } }],
        blocking: [{ on: ['email'] }],
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).issues.map((i) => i.path.join('.'))).toEqual([
        'fields.0.comparison.thresholds',
        'blocking.0.on.0',
      ]);
    }
  });
});
