import type { ComputedTrait, Condition, EventStep, PropertyFilter } from '../core/index.js';

/**
 * The segments of the Online Retail oracle test (`src/segments/online-retail.test.ts`), each with
 * the hand-written DuckDB query over the raw CSV that must select the same customers.
 */
export const NOW = new Date('2011-12-10T00:00:00Z');
export const ORDER_LINE = 'Order Line';
/** A week later: the streaming segments get there by their timers alone. */
export const LATER = new Date('2011-12-17T00:00:00Z');

/**
 * Minutes from an invoice time to NOW. Most bounds below sit exactly on the time of some line
 * (found by querying the data), so that whether each bound is inclusive changes a member.
 */
const minutesSince = (iso: string) => (NOW.getTime() - Date.parse(iso)) / 60_000;
const SINCE_OCTOBER_3 = minutesSince('2011-10-03T09:44:00Z');
const SINCE_DECEMBER_7 = minutesSince('2011-12-07T14:01:00Z');
const SINCE_OCTOBER_26 = minutesSince('2011-10-26T12:03:00Z');
const SINCE_NOVEMBER_25 = minutesSince('2011-11-25T11:35:00Z');
const SINCE_NOVEMBER_21 = minutesSince('2011-11-21T13:25:00Z');

export const TRAITS: ComputedTrait[] = [
  { name: 'first_line_at', event: ORDER_LINE, aggregate: 'first_time' },
  { name: 'last_line_at', event: ORDER_LINE, aggregate: 'last_time' },
  { name: 'line_count', event: ORDER_LINE, aggregate: 'count' },
  { name: 'rfm_recency', event: ORDER_LINE, aggregate: 'recency_score' },
  { name: 'rfm_frequency', event: ORDER_LINE, aggregate: 'frequency_score', property: 'invoice' },
  { name: 'rfm_monetary', event: ORDER_LINE, aggregate: 'monetary_score', property: 'revenue' },
];

export interface Case {
  name: string;
  mode: 'streaming' | 'batch';
  /** Names of the cases this one refers to (it is created after them). */
  uses?: string[];
  /** `ids`: the ids of the cases created before this one, by name. */
  condition(ids: ReadonlyMap<string, string>): Condition;
  /**
   * DuckDB SQL over the oracle's `lines` and `customers` selecting `customer` (CustomerID as in
   * the file): `now` is a timestamp literal, `sql` gives another case's query.
   */
  oracle(o: { now: string; sql(name: string): string }): string;
}

const line = (
  where: PropertyFilter[] = [],
  rest: Omit<Extract<Condition, { kind: 'event' }>, 'kind' | 'event' | 'where'> = {},
): Condition => ({ kind: 'event', event: ORDER_LINE, where, ...rest });
const positive = { property: 'quantity', test: { operator: 'greater_than', value: 0 } } as const;
const negative = { property: 'quantity', test: { operator: 'less_than', value: 0 } } as const;
const cancellation = { property: 'invoice', test: { operator: 'starts_with', value: 'c' } } as const;
type SequenceCondition = Extract<Condition, { kind: 'sequence' }>;
const sequence = (
  first: EventStep,
  second: EventStep,
  rest: Omit<SequenceCondition, 'kind' | 'first' | 'next'>,
): Condition => ({
  kind: 'sequence',
  first,
  next: second,
  ...rest,
});

export const CASES: Case[] = [
  {
    // attribute equals (case-insensitive); performed with a property filter, at least N, last N minutes
    name: 'UK regulars',
    mode: 'streaming',
    condition: () => ({
      kind: 'all',
      conditions: [
        { kind: 'attribute', attribute: 'country', test: { operator: 'equals', value: 'UNITED KINGDOM' } },
        line([positive], {
          window: { kind: 'last', amount: SINCE_OCTOBER_3, unit: 'minutes' },
          measure: { kind: 'count', test: { operator: 'at_least', value: 20 } },
        }),
      ],
    }),
    oracle: ({ now }) => `SELECT c.customer FROM customers c JOIN lines l USING (customer)
      WHERE lower(c.country) = 'united kingdom' AND l.quantity > 0
        AND l.t > ${now} - INTERVAL ${SINCE_OCTOBER_3} MINUTE
      GROUP BY c.customer HAVING count(*) >= 20`,
  },
  {
    // window between two dates; did not perform (with a property filter) in the last N weeks
    name: 'Lapsed spring buyers',
    mode: 'streaming',
    condition: () => ({
      kind: 'all',
      conditions: [
        line([positive], {
          window: { kind: 'between', from: '2011-03-01T10:38:00Z', to: '2011-05-31T13:08:00Z' },
          measure: { kind: 'count', test: { operator: 'at_least', value: 3 } },
        }),
        line([positive], { performed: false, window: { kind: 'last', amount: 8, unit: 'weeks' } }),
      ],
    }),
    oracle: ({ now }) => `SELECT customer FROM customers c
      WHERE (SELECT count(*) FROM lines l WHERE l.customer = c.customer AND l.quantity > 0
               AND l.t >= TIMESTAMP '2011-03-01 10:38' AND l.t < TIMESTAMP '2011-05-31 13:08') >= 3
        AND NOT EXISTS (SELECT 1 FROM lines l WHERE l.customer = c.customer AND l.quantity > 0
                          AND l.t > ${now} - INTERVAL 56 DAY)`,
  },
  {
    // contains on an event property, distinct_count between, last N minutes, count greater than, any
    name: 'Christmas shoppers still active',
    mode: 'streaming',
    condition: () => ({
      kind: 'all',
      conditions: [
        line([{ property: 'description', test: { operator: 'contains', value: 'Christmas' } }, positive], {
          window: { kind: 'between', from: '2011-09-01T00:00:00Z', to: '2011-12-01T00:00:00Z' },
          measure: {
            kind: 'aggregate',
            function: 'distinct_count',
            property: 'stockCode',
            test: { operator: 'between', min: 3, max: 40 },
          },
        }),
        {
          kind: 'any',
          conditions: [
            line([], { window: { kind: 'last', amount: SINCE_DECEMBER_7, unit: 'minutes' } }),
            line([cancellation], {
              window: { kind: 'last', amount: 30, unit: 'days' },
              measure: { kind: 'count', test: { operator: 'greater_than', value: 2 } },
            }),
          ],
        },
      ],
    }),
    oracle: ({ now }) => `SELECT customer FROM customers c
      WHERE (SELECT count(DISTINCT stock_code) FROM lines l WHERE l.customer = c.customer
               AND strpos(lower(l.description), 'christmas') > 0 AND l.quantity > 0
               AND l.t >= TIMESTAMP '2011-09-01' AND l.t < TIMESTAMP '2011-12-01') BETWEEN 3 AND 40
        AND (EXISTS (SELECT 1 FROM lines l WHERE l.customer = c.customer AND l.t > ${now} - INTERVAL ${SINCE_DECEMBER_7} MINUTE)
          OR (SELECT count(*) FROM lines l WHERE l.customer = c.customer AND lower(l.invoice) LIKE 'c%'
                AND l.t > ${now} - INTERVAL 30 DAY) > 2)`,
  },
  {
    // attribute in, starts with, contains, not equals; not
    name: 'Continental Europe',
    mode: 'streaming',
    condition: () => ({
      kind: 'all',
      conditions: [
        {
          kind: 'any',
          conditions: [
            {
              kind: 'attribute',
              attribute: 'country',
              test: { operator: 'in', values: ['germany', 'FRANCE', 'Spain', 'Belgium'] },
            },
            { kind: 'attribute', attribute: 'country', test: { operator: 'starts_with', value: 'SWI' } },
            { kind: 'attribute', attribute: 'country', test: { operator: 'contains', value: 'Land' } },
          ],
        },
        { kind: 'attribute', attribute: 'country', test: { operator: 'not_equals', value: 'finland' } },
        {
          kind: 'not',
          condition: {
            kind: 'attribute',
            attribute: 'country',
            test: { operator: 'contains', value: 'islands' },
          },
        },
      ],
    }),
    oracle: () => `SELECT customer FROM customers
      WHERE (lower(country) IN ('germany', 'france', 'spain', 'belgium') OR lower(country) LIKE 'swi%'
             OR strpos(lower(country), 'land') > 0)
        AND lower(country) <> 'finland' AND strpos(lower(country), 'islands') = 0`,
  },
  {
    // attribute greater than, less than, between (numbers); is empty; not equals is unknown without a value
    name: 'Customer number ranges or no order',
    mode: 'streaming',
    condition: () => ({
      kind: 'any',
      conditions: [
        {
          kind: 'all',
          conditions: [
            {
              kind: 'attribute',
              attribute: 'customer_number',
              test: { operator: 'greater_than', value: 18200 },
            },
            {
              kind: 'attribute',
              attribute: 'customer_number',
              test: { operator: 'less_than', value: 18250 },
            },
          ],
        },
        {
          kind: 'attribute',
          attribute: 'customer_number',
          test: { operator: 'between', min: 12340, max: 12360 },
        },
        {
          kind: 'all',
          conditions: [
            { kind: 'attribute', attribute: 'first_order_at', test: { operator: 'is_empty' } },
            {
              kind: 'not',
              condition: {
                kind: 'attribute',
                attribute: 'first_order_at',
                test: { operator: 'not_equals', value: 'never' },
              },
            },
          ],
        },
      ],
    }),
    oracle: () => `SELECT customer FROM customers
      WHERE (customer_number > 18200 AND customer_number < 18250) OR customer_number BETWEEN 12340 AND 12360
         OR first_order_at IS NULL`,
  },
  {
    // attribute exists, before, after, within last N days
    name: 'First ordered on day one or lately',
    mode: 'streaming',
    condition: () => ({
      kind: 'any',
      conditions: [
        {
          kind: 'all',
          conditions: [
            { kind: 'attribute', attribute: 'first_order_at', test: { operator: 'exists' } },
            {
              kind: 'attribute',
              attribute: 'first_order_at',
              test: { operator: 'before', value: '2010-12-01T09:41:00Z' },
            },
          ],
        },
        {
          kind: 'all',
          conditions: [
            {
              kind: 'attribute',
              attribute: 'first_order_at',
              test: { operator: 'within_last', amount: SINCE_OCTOBER_26, unit: 'minutes' },
            },
            {
              kind: 'not',
              condition: {
                kind: 'attribute',
                attribute: 'first_order_at',
                test: { operator: 'after', value: '2011-11-20T12:30:00Z' },
              },
            },
          ],
        },
      ],
    }),
    oracle: ({ now }) => `SELECT customer FROM customers
      WHERE (first_order_at IS NOT NULL AND first_order_at < TIMESTAMP '2010-12-01 09:41')
         OR (first_order_at > ${now} - INTERVAL ${SINCE_OCTOBER_26} MINUTE AND first_order_at <= ${now}
             AND NOT first_order_at > TIMESTAMP '2011-11-20 12:30')`,
  },
  {
    // computed traits: first_time before, last_time within last N days, count greater than
    name: 'Long-standing and recently active',
    mode: 'streaming',
    condition: () => ({
      kind: 'all',
      conditions: [
        {
          kind: 'trait',
          trait: 'first_line_at',
          test: { operator: 'before', value: '2011-02-01T00:00:00Z' },
        },
        {
          kind: 'trait',
          trait: 'last_line_at',
          test: { operator: 'within_last', amount: SINCE_NOVEMBER_25, unit: 'minutes' },
        },
        { kind: 'trait', trait: 'line_count', test: { operator: 'greater_than', value: 100 } },
      ],
    }),
    oracle: ({ now }) => `SELECT customer FROM lines GROUP BY customer
      HAVING min(t) < TIMESTAMP '2011-02-01' AND max(t) > ${now} - INTERVAL ${SINCE_NOVEMBER_25} MINUTE
         AND max(t) <= ${now}
         AND count(*) > 100`,
  },
  {
    // aggregates over all time: sum, average, min, max
    name: 'Big bulk spenders',
    mode: 'streaming',
    condition: () => ({
      kind: 'all',
      conditions: [
        line([], {
          measure: {
            kind: 'aggregate',
            function: 'sum',
            property: 'revenue',
            test: { operator: 'greater_than', value: 300_000 },
          },
        }),
        line([], {
          measure: {
            kind: 'aggregate',
            function: 'average',
            property: 'unitPrice',
            test: { operator: 'less_than', value: 2.71 },
          },
        }),
        {
          kind: 'any',
          conditions: [
            line([], {
              measure: {
                kind: 'aggregate',
                function: 'min',
                property: 'quantity',
                test: { operator: 'at_most', value: -10 },
              },
            }),
            line([], {
              measure: {
                kind: 'aggregate',
                function: 'max',
                property: 'quantity',
                test: { operator: 'at_least', value: 500 },
              },
            }),
          ],
        },
      ],
    }),
    oracle: () => `SELECT customer FROM lines GROUP BY customer
      HAVING sum(revenue) > 300000 AND avg(unit_price) < 2.71 AND (min(quantity) <= -10 OR max(quantity) >= 500)`,
  },
  {
    // exactly N, at most N (ever), equals on an event property, count between in the last N hours
    name: 'Exact counts',
    mode: 'streaming',
    condition: () => ({
      kind: 'any',
      conditions: [
        line([], {
          window: { kind: 'last', amount: 30, unit: 'days' },
          measure: { kind: 'count', test: { operator: 'exactly', value: 12 } },
        }),
        {
          kind: 'all',
          conditions: [
            line([], { measure: { kind: 'count', test: { operator: 'at_most', value: 3 } } }),
            line([{ property: 'stockCode', test: { operator: 'equals', value: 'post' } }]),
          ],
        },
        line([], {
          window: { kind: 'last', amount: 36, unit: 'hours' },
          measure: { kind: 'count', test: { operator: 'between', min: 40, max: 60 } },
        }),
      ],
    }),
    oracle: ({ now }) => `SELECT customer FROM customers c
      WHERE (SELECT count(*) FROM lines l WHERE l.customer = c.customer AND l.t > ${now} - INTERVAL 30 DAY) = 12
         OR ((SELECT count(*) FROM lines l WHERE l.customer = c.customer) <= 3
             AND EXISTS (SELECT 1 FROM lines l WHERE l.customer = c.customer AND lower(l.stock_code) = 'post'))
         OR (SELECT count(*) FROM lines l WHERE l.customer = c.customer AND l.t > ${now} - INTERVAL 36 HOUR)
              BETWEEN 40 AND 60`,
  },
  {
    // sequence: A then B within T, first steps in the last N days
    name: 'Returned then reordered',
    mode: 'streaming',
    condition: () =>
      sequence(
        { event: ORDER_LINE, where: [negative] },
        { event: ORDER_LINE, where: [positive] },
        {
          // About 14 days: one customer's closest pair is exactly this far apart.
          within: { amount: 20_151, unit: 'minutes' },
          window: { kind: 'last', amount: 180, unit: 'days' },
        },
      ),
    oracle: ({ now }) => `SELECT DISTINCT a.customer FROM lines a JOIN lines b
        ON b.customer = a.customer AND b.line <> a.line AND b.t >= a.t AND b.t <= a.t + INTERVAL 20151 MINUTE
      WHERE a.quantity < 0 AND a.t > ${now} - INTERVAL 180 DAY AND b.quantity > 0`,
  },
  {
    // sequence whose steps match the same events: the second must be another line
    name: 'Cancelled twice within 30 minutes',
    mode: 'streaming',
    condition: () =>
      sequence(
        { event: ORDER_LINE, where: [cancellation] },
        { event: ORDER_LINE, where: [cancellation] },
        { within: { amount: 30, unit: 'minutes' } },
      ),
    oracle: () => `SELECT DISTINCT a.customer FROM lines a JOIN lines b
        ON b.customer = a.customer AND b.line <> a.line AND b.t >= a.t AND b.t <= a.t + INTERVAL 30 MINUTE
      WHERE lower(a.invoice) LIKE 'c%' AND lower(b.invoice) LIKE 'c%'`,
  },
  {
    // sequence: A not followed by B within T (a cancellation line with no purchase in the 14 days after)
    name: 'Cancelled and did not reorder',
    mode: 'streaming',
    condition: () =>
      sequence(
        { event: ORDER_LINE, where: [cancellation] },
        { event: ORDER_LINE, where: [positive] },
        {
          // About 18 days: one customer's only cancellation is exactly this long before NOW.
          within: { amount: SINCE_NOVEMBER_21, unit: 'minutes' },
          followed: false,
        },
      ),
    oracle: ({ now }) => `SELECT DISTINCT a.customer FROM lines a
      WHERE lower(a.invoice) LIKE 'c%' AND a.t + INTERVAL ${SINCE_NOVEMBER_21} MINUTE <= ${now}
        AND NOT EXISTS (SELECT 1 FROM lines b WHERE b.customer = a.customer AND b.line <> a.line AND b.quantity > 0
                          AND b.t >= a.t AND b.t <= a.t + INTERVAL ${SINCE_NOVEMBER_21} MINUTE)`,
  },
  {
    // segment membership and not
    name: 'UK regulars who always reorder',
    mode: 'streaming',
    uses: ['UK regulars', 'Cancelled and did not reorder'],
    condition: (ids) => ({
      kind: 'all',
      conditions: [
        { kind: 'segment', segment: ids.get('UK regulars')! },
        { kind: 'not', condition: { kind: 'segment', segment: ids.get('Cancelled and did not reorder')! } },
      ],
    }),
    oracle: ({ sql }) => `(${sql('UK regulars')}) EXCEPT (${sql('Cancelled and did not reorder')})`,
  },
  {
    // ranking: top X% by an aggregate (sum of revenue in pence) over a period
    name: 'Top 20% by 2011 revenue',
    mode: 'batch',
    condition: () => ({
      kind: 'rank',
      direction: 'top',
      percent: 20,
      metric: {
        kind: 'event',
        event: ORDER_LINE,
        window: { kind: 'between', from: '2011-01-01T00:00:00Z', to: '2011-12-01T00:00:00Z' },
        function: 'sum',
        property: 'revenue',
      },
    }),
    oracle: () => `WITH m AS (
        SELECT customer, sum(revenue) AS v FROM lines
        WHERE t >= TIMESTAMP '2011-01-01' AND t < TIMESTAMP '2011-12-01' GROUP BY customer),
      r AS (SELECT customer, (SELECT count(*) FROM m m2 WHERE m2.v > m.v) + 1 AS place, (SELECT count(*) FROM m) AS n FROM m)
      SELECT customer FROM r WHERE place <= (n * 20 + 99) // 100`,
  },
  {
    // ranking: bottom N (ties at the edge all in), top N by an attribute, top X% by a trait; any
    name: 'Rank edges',
    mode: 'batch',
    condition: () => ({
      kind: 'any',
      conditions: [
        {
          kind: 'rank',
          direction: 'bottom',
          count: 40,
          metric: {
            kind: 'event',
            event: ORDER_LINE,
            where: [positive],
            window: { kind: 'last', amount: 26, unit: 'weeks' },
            function: 'sum',
            property: 'quantity',
          },
        },
        {
          kind: 'rank',
          direction: 'top',
          count: 25,
          metric: { kind: 'attribute', attribute: 'customer_number' },
        },
        { kind: 'rank', direction: 'top', percent: 2.5, metric: { kind: 'trait', trait: 'line_count' } },
      ],
    }),
    oracle: ({ now }) => `WITH q AS (
        SELECT customer, sum(quantity) AS v FROM lines
        WHERE quantity > 0 AND t > ${now} - INTERVAL 182 DAY GROUP BY customer),
      lc AS (SELECT customer, count(*) AS v FROM lines GROUP BY customer)
      SELECT customer FROM q WHERE (SELECT count(*) FROM q q2 WHERE q2.v < q.v) < 40
      UNION SELECT customer FROM customers c WHERE (SELECT count(*) FROM customers c2 WHERE c2.customer_number > c.customer_number) < 25
      UNION SELECT customer FROM lc WHERE (SELECT count(*) FROM lc l2 WHERE l2.v > lc.v) < ((SELECT count(*) FROM lc) * 25 + 999) // 1000`,
  },
  {
    // RFM score traits (quintiles among all customers), nested all/any/not
    name: 'RFM champions',
    mode: 'batch',
    condition: () => ({
      kind: 'all',
      conditions: [
        { kind: 'trait', trait: 'rfm_recency', test: { operator: 'equals', value: 5 } },
        {
          kind: 'any',
          conditions: [
            { kind: 'trait', trait: 'rfm_frequency', test: { operator: 'greater_than', value: 3 } },
            { kind: 'trait', trait: 'rfm_monetary', test: { operator: 'equals', value: 5 } },
          ],
        },
        {
          kind: 'not',
          condition: { kind: 'trait', trait: 'rfm_monetary', test: { operator: 'less_than', value: 2 } },
        },
      ],
    }),
    oracle: () => `WITH base AS (
        SELECT customer, max(t) AS r, count(DISTINCT invoice) AS f, sum(revenue) AS m FROM lines GROUP BY customer),
      population AS (SELECT count(*) AS n FROM base),
      score AS (
        SELECT customer,
          (5 * (SELECT count(*) FROM base b2 WHERE b2.r <= b.r) + n - 1) // n AS r,
          (5 * (SELECT count(*) FROM base b2 WHERE b2.f <= b.f) + n - 1) // n AS f,
          (5 * (SELECT count(*) FROM base b2 WHERE b2.m <= b.m) + n - 1) // n AS m
        FROM base b, population)
      SELECT customer FROM score WHERE r = 5 AND (f > 3 OR m = 5) AND NOT m < 2`,
  },
];
