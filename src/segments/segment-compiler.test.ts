import { describe, expect, it } from 'vitest';
import { type Condition, ConditionSchema } from '../core/index.js';
import { duckdbDialect, postgresDialect } from '../store/index.js';
import { segmentCompiler } from './segment-compiler.js';
import { planSegments } from './segment-plan.js';

const NOW = new Date('2026-03-01T00:00:00Z');
const LAST_7_DAYS = { kind: 'last', amount: 7, unit: 'days' } as const;

/** One case per condition kind; the golden files hold the exact SQL and parameters per dialect. */
const CASES: Record<string, unknown> = {
  'count-in-window-and-not-performed': {
    kind: 'all',
    conditions: [
      {
        kind: 'event',
        event: 'Product Viewed',
        window: LAST_7_DAYS,
        where: [{ property: 'product.category', test: { operator: 'in', values: ['Shoes', 42] } }],
        measure: { kind: 'count', test: { operator: 'at_least', value: 2 } },
      },
      { kind: 'event', event: 'Order Completed', performed: false, window: LAST_7_DAYS },
    ],
  },
  'aggregates-between-dates': {
    kind: 'any',
    conditions: (['sum', 'average', 'min', 'max', 'distinct_count'] as const).map((fn) => ({
      kind: 'event',
      event: 'Order Completed',
      window: { kind: 'between', from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' },
      measure: {
        kind: 'aggregate',
        function: fn,
        property: 'revenue',
        test: { operator: 'between', min: 10, max: 99.5 },
      },
    })),
  },
  'attribute-and-trait-tests': {
    kind: 'all',
    conditions: [
      { kind: 'attribute', attribute: 'country', test: { operator: 'not_equals', value: 'US' } },
      { kind: 'attribute', attribute: 'email', test: { operator: 'contains', value: '@Example' } },
      { kind: 'attribute', attribute: 'city', test: { operator: 'starts_with', value: 'Lis' } },
      { kind: 'attribute', attribute: 'phone', test: { operator: 'is_empty' } },
      { kind: 'trait', trait: 'lifetime_revenue', test: { operator: 'greater_than', value: 100 } },
      {
        kind: 'trait',
        trait: 'first_purchase_at',
        test: { operator: 'within_last', amount: 30, unit: 'days' },
      },
      {
        kind: 'attribute',
        attribute: 'birthday',
        test: { operator: 'before', value: '2000-01-01T00:00:00Z' },
      },
      {
        kind: 'not',
        condition: { kind: 'attribute', attribute: 'vip', test: { operator: 'equals', value: true } },
      },
    ],
  },
  'funnel-and-abandonment': {
    kind: 'any',
    conditions: [
      {
        kind: 'sequence',
        first: { event: 'Product Added' },
        next: {
          event: 'Order Completed',
          where: [{ property: 'revenue', test: { operator: 'greater_than', value: 0 } }],
        },
        within: { amount: 2, unit: 'hours' },
        window: LAST_7_DAYS,
      },
      {
        kind: 'sequence',
        first: { event: 'Checkout Started' },
        next: { event: 'Order Completed' },
        within: { amount: 1, unit: 'days' },
        followed: false,
      },
    ],
  },
  'ranking-top-percent-and-bottom-count': {
    kind: 'all',
    conditions: [
      {
        kind: 'rank',
        metric: {
          kind: 'event',
          event: 'Order Completed',
          function: 'sum',
          property: 'revenue',
          window: LAST_7_DAYS,
        },
        direction: 'top',
        percent: 20,
      },
      { kind: 'rank', metric: { kind: 'trait', trait: 'order_count' }, direction: 'bottom', count: 100 },
    ],
  },
};

const REFERENCED: Condition = {
  kind: 'attribute',
  attribute: 'tier',
  test: { operator: 'equals', value: 'gold' },
};

describe('the segment compiler', () => {
  for (const dialect of [duckdbDialect, postgresDialect]) {
    for (const [name, condition] of Object.entries(CASES)) {
      it(`compiles ${name} for ${dialect.name} exactly as the golden file says`, async () => {
        const plan = planSegments(
          [{ id: 's', condition: ConditionSchema.parse(condition) }],
          () => undefined,
        );
        const { sql, params } = segmentCompiler(dialect).compile(plan, NOW);
        const text = `${sql}\n-- parameters\n${params.map((p, i) => `-- $${i + 1} = ${p instanceof Date ? p.toISOString() : JSON.stringify(p)}`).join('\n')}\n`;
        await expect(text).toMatchFileSnapshot(`__golden__/${name}.${dialect.name}.sql`);
      });
    }
  }

  it('shares one feature between segments that use the same leaf, and inlines referenced segments', () => {
    const viewed = ConditionSchema.parse({ kind: 'event', event: 'Product Viewed', window: LAST_7_DAYS });
    const plan = planSegments(
      [
        { id: 'a', condition: viewed },
        { id: 'b', condition: { kind: 'all', conditions: [viewed, { kind: 'segment', segment: 'gold' }] } },
        { id: 'c', condition: { kind: 'not', condition: { kind: 'segment', segment: 'gold' } } },
      ],
      (id) => (id === 'gold' ? REFERENCED : undefined),
    );
    expect(plan.events).toHaveLength(1);
    expect(plan.values).toEqual([{ source: 'attribute', name: 'tier' }]);
    const { sql } = segmentCompiler(duckdbDialect).compile(plan, NOW);
    // One scan of the events computes the feature every segment reads.
    expect(sql.match(/FROM ev WHERE/g)).toHaveLength(1);
    expect(sql).toContain('coalesce(coalesce(e0, 0) >= 1, false) AS s0');
  });

  it('refuses a cycle it is handed', () => {
    const conditions: Record<string, Condition> = {
      x: { kind: 'segment', segment: 'y' },
      y: { kind: 'segment', segment: 'x' },
    };
    expect(() => planSegments([{ id: 'x', condition: conditions.x! }], (id) => conditions[id])).toThrow(
      /cycle/,
    );
  });
});
