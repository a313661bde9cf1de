import { describe, expect, it } from 'vitest';
import { IdentityConfigSchema } from '../core/index.js';
import { type AttributeObservation, unifyAttributes } from './survivorship.js';

const at = (day: number) => new Date(Date.UTC(2026, 0, day));
const obs = (name: string, value: unknown, source: string, day: number): AttributeObservation => ({
  name,
  value,
  source,
  at: at(day),
  ref: `record:${source}-${day}`,
});

const values = [
  obs('tier', 'silver', 'loyalty', 1),
  obs('tier', 'gold', 'crm', 3),
  obs('tier', 'silver', 'shop', 5),
  obs('tier', '', 'web', 9),
  obs('city', 'Porto', 'crm', 2),
];

function unify(attributes: Record<string, unknown>, defaultRule?: unknown) {
  return unifyAttributes(
    values,
    IdentityConfigSchema.parse({ attributes, ...(defaultRule ? { defaultRule } : {}) }),
  );
}

describe('survivorship', () => {
  it('takes the most recent non-empty value by default, and says where it came from', () => {
    expect(unify({}).tier).toEqual({
      value: 'silver',
      source: 'shop',
      ref: 'record:shop-5',
      at: at(5),
      rule: 'most_recent',
      candidates: 2,
    });
    expect(unify({}).city).toMatchObject({ value: 'Porto', source: 'crm', candidates: 1 });
  });

  it('takes the first value seen', () => {
    expect(unify({ tier: { rule: 'first_seen' } }).tier).toMatchObject({
      value: 'silver',
      source: 'loyalty',
    });
  });

  it('takes the most frequent value, the latest occurrence breaking ties', () => {
    expect(unify({ tier: { rule: 'most_frequent' } }).tier).toMatchObject({
      value: 'silver',
      source: 'shop',
    });
    const rule = IdentityConfigSchema.parse({ defaultRule: { rule: 'most_frequent' } });
    const tie = unifyAttributes(
      [
        obs('size', 'M', 'a', 1),
        obs('size', 'L', 'b', 2),
        obs('size', 'L', 'c', 3),
        obs('size', 'M', 'd', 4),
      ],
      rule,
    );
    expect(tie.size).toMatchObject({ value: 'M', source: 'd' });
  });

  it('prefers sources in the order given, falling back to the most recent', () => {
    expect(unify({ tier: { rule: 'source_priority', sources: ['crm', 'loyalty'] } }).tier).toMatchObject({
      value: 'gold',
      source: 'crm',
    });
    expect(unify({ tier: { rule: 'source_priority', sources: ['pos'] } }).tier).toMatchObject({
      source: 'shop',
    });
  });

  it('applies a default rule to every attribute not listed', () => {
    expect(unify({}, { rule: 'first_seen' }).tier).toMatchObject({ value: 'silver', source: 'loyalty' });
  });
});
