import type { SegmentDefinition } from '../core/index.js';

const LAST_7_DAYS = { kind: 'last', amount: 7, unit: 'days' } as const;

/** The segments the demo workspace starts with, one of each common kind. */
export const DEMO_SEGMENTS: SegmentDefinition[] = [
  {
    name: 'Browsed, did not buy',
    description: 'Looked at products twice or more this week and bought nothing',
    condition: {
      kind: 'all',
      conditions: [
        {
          kind: 'event',
          event: 'Product Viewed',
          window: LAST_7_DAYS,
          measure: { kind: 'count', test: { operator: 'at_least', value: 2 } },
        },
        { kind: 'event', event: 'Order Completed', performed: false, window: LAST_7_DAYS },
      ],
    },
  },
  {
    name: 'Cart abandoners',
    description: 'Added to cart this week and did not order within a day',
    condition: {
      kind: 'sequence',
      first: { event: 'Product Added' },
      next: { event: 'Order Completed' },
      within: { amount: 1, unit: 'days' },
      followed: false,
      window: LAST_7_DAYS,
    },
  },
  {
    name: 'Lapsed buyers',
    description: 'Ordered before, but not in the last 30 days',
    condition: {
      kind: 'all',
      conditions: [
        { kind: 'event', event: 'Order Completed' },
        {
          kind: 'event',
          event: 'Order Completed',
          performed: false,
          window: { kind: 'last', amount: 30, unit: 'days' },
        },
      ],
    },
  },
  {
    name: 'Top 20% by revenue',
    description: 'The fifth of buyers with the most revenue in the last 90 days',
    condition: {
      kind: 'rank',
      metric: {
        kind: 'event',
        event: 'Order Completed',
        function: 'sum',
        property: 'revenue',
        window: { kind: 'last', amount: 90, unit: 'days' },
      },
      direction: 'top',
      percent: 20,
    },
  },
  {
    name: 'RFM champions',
    description: 'Recency, frequency and monetary scores all 4 or 5',
    condition: {
      kind: 'all',
      conditions: ['rfm_recency', 'rfm_frequency', 'rfm_monetary'].map((trait) => ({
        kind: 'trait' as const,
        trait,
        test: { operator: 'greater_than' as const, value: 3 },
      })),
    },
  },
  {
    name: 'Gold and platinum, emailable',
    description: 'Loyalty tier gold or platinum, with email consent',
    condition: {
      kind: 'all',
      conditions: [
        { kind: 'attribute', attribute: 'tier', test: { operator: 'in', values: ['gold', 'platinum'] } },
        { kind: 'attribute', attribute: 'consent_email', test: { operator: 'equals', value: true } },
      ],
    },
  },
];
