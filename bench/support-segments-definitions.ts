import type { Condition, TimeUnit } from '../src/core/index.js';
import {
  aggregate,
  all,
  any,
  atLeast,
  attr,
  type BenchSegment,
  did,
  didNot,
  eq,
  funnel,
  last,
  not,
  over,
  ref,
} from './support-segments-conditions.js';
import { CATEGORIES, COUNTRIES, EVENT_WEIGHTS } from './support-segments-data.js';

/** 100 segments of the kinds a marketing team keeps: batch evaluation computes them all in one statement. */
export function batchSegments(now: number): BenchSegment[] {
  const isoDaysAgo = (days: number) => new Date(now - days * 86_400_000).toISOString();
  const s: BenchSegment[] = [];
  const add = (name: string, condition: Condition) => s.push({ name, condition });
  // Engagement counts in windows (12).
  add('Browsed 5+ pages this week', did('Page Viewed', last(7), atLeast(5)));
  add('Browsed 8+ pages this month', did('Page Viewed', last(30), atLeast(8)));
  add('Heavy browsers this year', did('Page Viewed', last(365), atLeast(40)));
  add('Viewed 3+ products this week', did('Product Viewed', last(7), atLeast(3)));
  add('Viewed 10+ products this month', did('Product Viewed', last(30), atLeast(10)));
  add('Opened the app today', did('App Opened', last(24, 'hours')));
  add('App regulars', did('App Opened', last(30), atLeast(3)));
  add('Email readers', did('Email Opened', last(30), atLeast(3)));
  add('Email clickers', did('Email Clicked', last(14)));
  add('Occasional sign-ins', did('Signed In', last(30), { operator: 'between', min: 1, max: 3 }));
  add('Searchers this week', did('Products Searched', last(7), atLeast(2)));
  add('Push responders', did('Push Opened', last(48, 'hours')));
  // Buyers and browsers by category (16).
  for (const c of CATEGORIES)
    add(`${c} buyers`, did('Order Completed', last(90), undefined, [eq('category', c)]));
  for (const c of CATEGORIES)
    add(`${c} browsers`, did('Product Viewed', last(30), atLeast(3), [eq('category', c)]));
  // Aggregates of properties (10).
  add('Spent 500+ this year', aggregate('Order Completed', 'sum', 'revenue', over(500), last(365)));
  add('Spent 2000+ ever', aggregate('Order Completed', 'sum', 'revenue', over(2000)));
  add(
    'Mid-basket buyers',
    aggregate('Order Completed', 'average', 'revenue', { operator: 'between', min: 50, max: 150 }, last(180)),
  );
  add('Premium lookers', aggregate('Product Viewed', 'max', 'price', over(250), last(30)));
  add(
    'Bargain hunters',
    aggregate('Order Completed', 'min', 'revenue', { operator: 'less_than', value: 20 }, last(365)),
  );
  add(
    'Cross-category browsers',
    aggregate('Product Viewed', 'distinct_count', 'category', atLeast(4), last(90)),
  );
  add(
    'Catalogue explorers',
    aggregate('Product Viewed', 'distinct_count', 'product_id', atLeast(10), last(30)),
  );
  add('Bulk buyers', aggregate('Order Completed', 'sum', 'items', atLeast(10), last(365)));
  add('Repeat buyers', did('Order Completed', last(365), atLeast(3)));
  add('One-time buyers', did('Order Completed', undefined, { operator: 'exactly', value: 1 }));
  // Did not perform (8).
  add('Lapsed buyers', all(did('Order Completed'), didNot('Order Completed', last(180))));
  add(
    'Dormant members',
    all(did('Signed In'), didNot('Signed In', last(60)), didNot('App Opened', last(60))),
  );
  add('Never purchased', all(did('Signed Up'), didNot('Order Completed')));
  add('Email unresponsive', all(did('Email Opened'), didNot('Email Opened', last(90))));
  add(
    'Recently churned',
    all(did('Subscription Cancelled', last(30)), didNot('Subscription Started', last(30))),
  );
  add('Inactive this month', didNot('Page Viewed', last(30)));
  add(
    'Cooling browsers',
    all(
      did('Product Viewed', { kind: 'between', from: isoDaysAgo(60), to: isoDaysAgo(15) }),
      didNot('Product Viewed', last(14)),
    ),
  );
  add('Full-price buyers', all(did('Order Completed', undefined, atLeast(2)), didNot('Coupon Applied')));
  // Funnels (7).
  add('Added then bought', funnel('Product Added', 'Order Completed', 1, 'days', last(30)));
  add('Searched then viewed', funnel('Products Searched', 'Product Viewed', 10, 'minutes', last(7)));
  add('Email-driven buyers', funnel('Email Clicked', 'Order Completed', 2, 'days', last(30)));
  add('Fast first purchase', funnel('Signed Up', 'Order Completed', 7, 'days'));
  add(
    'Shoe shoppers',
    funnel('Product Viewed', 'Product Added', 1, 'hours', last(14), true, [eq('category', 'shoes')]),
  );
  add('Push to app', funnel('Push Opened', 'App Opened', 5, 'minutes', last(30)));
  add('Coupon converters', funnel('Coupon Applied', 'Order Completed', 1, 'hours', last(90)));
  // Abandonment (6).
  add('Checkout abandoners', funnel('Checkout Started', 'Order Completed', 1, 'hours', last(7), false));
  add('Cart abandoners', funnel('Product Added', 'Checkout Started', 1, 'days', last(14), false));
  add('Cart viewers who left', funnel('Cart Viewed', 'Checkout Started', 2, 'hours', last(3), false));
  add('Signed up, never bought', funnel('Signed Up', 'Order Completed', 30, 'days', last(90), false));
  add('Unresolved tickets', funnel('Support Ticket Opened', 'Review Submitted', 7, 'days', last(30), false));
  add(
    'Electronics abandoners',
    funnel('Product Added', 'Order Completed', 3, 'days', last(30), false, [eq('category', 'electronics')]),
  );
  // Attributes (10).
  add('Pro plan', attr('plan', { operator: 'equals', value: 'pro' }));
  add(
    'Paid plans in North America',
    all(
      attr('plan', { operator: 'in', values: ['pro', 'enterprise'] }),
      attr('country', { operator: 'in', values: ['US', 'CA'] }),
    ),
  );
  add('Gold and platinum', attr('loyalty_tier', { operator: 'in', values: ['gold', 'platinum'] }));
  add('Gen Z', attr('age', { operator: 'between', min: 18, max: 24 }));
  add('Over 55', attr('age', { operator: 'greater_than', value: 54 }));
  add('New sign-ups', attr('signup_date', { operator: 'within_last', amount: 30, unit: 'days' }));
  add('Early adopters', attr('signup_date', { operator: 'before', value: isoDaysAgo(900) }));
  add(
    'UK subscribers',
    all(
      attr('email_opt_in', { operator: 'equals', value: true }),
      attr('country', { operator: 'equals', value: 'GB' }),
    ),
  );
  add('High lifetime value', attr('lifetime_value', { operator: 'greater_than', value: 3000 }));
  add(
    'Outside the US',
    all(attr('country', { operator: 'exists' }), attr('country', { operator: 'not_equals', value: 'US' })),
  );
  // Attributes with behaviour (10).
  add(
    'Pro plan gone quiet',
    all(attr('plan', { operator: 'equals', value: 'pro' }), didNot('Signed In', last(30))),
  );
  add(
    'Engaged subscribers',
    all(attr('email_opt_in', { operator: 'equals', value: true }), did('Email Opened', last(7))),
  );
  add(
    'Gold buyers this month',
    all(attr('loyalty_tier', { operator: 'equals', value: 'gold' }), did('Order Completed', last(30))),
  );
  add(
    'Young beauty fans',
    all(
      attr('age', { operator: 'less_than', value: 30 }),
      did('Product Viewed', last(30), undefined, [eq('category', 'beauty')]),
    ),
  );
  add(
    'US big spenders',
    all(
      attr('country', { operator: 'equals', value: 'US' }),
      aggregate('Order Completed', 'sum', 'revenue', over(1000), last(365)),
    ),
  );
  add(
    'New and not yet bought',
    all(
      attr('signup_date', { operator: 'within_last', amount: 90, unit: 'days' }),
      didNot('Order Completed'),
    ),
  );
  add(
    'Free plan power users',
    all(attr('plan', { operator: 'equals', value: 'free' }), did('App Opened', last(30), atLeast(2))),
  );
  add(
    'European electronics buyers',
    all(
      attr('country', { operator: 'in', values: ['DE', 'FR', 'NL', 'ES', 'IT'] }),
      did('Order Completed', last(180), undefined, [eq('category', 'electronics')]),
    ),
  );
  add('Unknown age buyers', all(attr('age', { operator: 'is_empty' }), did('Order Completed', last(90))));
  add(
    'High value, low activity',
    all(attr('lifetime_value', { operator: 'greater_than', value: 2000 }), didNot('Page Viewed', last(14))),
  );
  // Rankings (5): batch only.
  add('Top 10% spenders', {
    kind: 'rank',
    metric: {
      kind: 'event',
      event: 'Order Completed',
      function: 'sum',
      property: 'revenue',
      window: last(365),
    },
    direction: 'top',
    percent: 10,
  });
  add('Top 1000 browsers', {
    kind: 'rank',
    metric: { kind: 'event', event: 'Page Viewed', function: 'count', window: last(30) },
    direction: 'top',
    count: 1000,
  });
  add('Lowest quarter by lifetime value', {
    kind: 'rank',
    metric: { kind: 'attribute', attribute: 'lifetime_value' },
    direction: 'bottom',
    percent: 25,
  });
  add('Widest browsers', {
    kind: 'rank',
    metric: {
      kind: 'event',
      event: 'Product Viewed',
      function: 'distinct_count',
      property: 'category',
      window: last(90),
    },
    direction: 'top',
    percent: 5,
  });
  add('Top 500 average baskets', {
    kind: 'rank',
    metric: { kind: 'event', event: 'Order Completed', function: 'average', property: 'revenue' },
    direction: 'top',
    count: 500,
  });
  // Nesting (8).
  add(
    'Shopping now',
    any(
      did('Product Added', last(24, 'hours')),
      did('Cart Viewed', last(24, 'hours')),
      did('Checkout Started', last(24, 'hours')),
    ),
  );
  add(
    'Multi-channel engaged',
    all(
      any(did('Email Opened', last(14)), did('Push Opened', last(14))),
      any(did('App Opened', last(14)), did('Page Viewed', last(14), atLeast(3))),
    ),
  );
  add(
    'Not engaged anywhere',
    not(any(did('Email Opened', last(30)), did('App Opened', last(30)), did('Page Viewed', last(30)))),
  );
  add(
    'Discount seekers',
    all(
      did('Coupon Applied', last(90)),
      any(
        aggregate('Order Completed', 'average', 'revenue', { operator: 'less_than', value: 60 }, last(90)),
        didNot('Order Completed', last(90)),
      ),
    ),
  );
  add(
    'Subscribers at risk',
    all(
      did('Subscription Started'),
      any(did('Support Ticket Opened', last(30)), didNot('Signed In', last(45))),
    ),
  );
  add(
    'Reviewers who buy again',
    all(
      did('Review Submitted', last(180)),
      did('Order Completed', last(60)),
      not(did('Subscription Cancelled')),
    ),
  );
  add(
    'Wishlisters not buying',
    all(
      did('Wishlist Added', last(30), atLeast(2)),
      not(any(did('Order Completed', last(30)), did('Checkout Started', last(30)))),
    ),
  );
  add(
    'Mobile or heavy web',
    any(
      all(did('App Opened', last(7)), did('Push Opened', last(7))),
      did('Page Viewed', last(7), atLeast(15)),
    ),
  );
  // References (8).
  add('VIP', all(ref('Top 10% spenders'), ref('Repeat buyers')));
  add(
    'Win-back by email',
    all(ref('Lapsed buyers'), attr('email_opt_in', { operator: 'equals', value: true })),
  );
  add('Shoes not apparel', all(ref('shoes buyers'), not(ref('apparel buyers'))));
  add(
    'Hot leads',
    all(any(ref('Checkout abandoners'), ref('Cart abandoners')), ref('Viewed 3+ products this week')),
  );
  add('VIP at risk', all(ref('VIP'), ref('Dormant members')));
  add('Engaged non-buyers', all(ref('Multi-channel engaged'), ref('Never purchased')));
  add('Gen Z shoppers now', all(ref('Gen Z'), ref('Shopping now')));
  add(
    'Re-engage high value',
    all(ref('High lifetime value'), any(ref('Not engaged anywhere'), ref('Email unresponsive'))),
  );
  return s;
}

/**
 * `count` streaming segments (no rankings), varied over events, windows, thresholds, categories
 * and countries, so that their features overlap as much as a real catalogue's do.
 */
export function streamingSegments(count: number): BenchSegment[] {
  const events = EVENT_WEIGHTS.map(([e]) => e);
  const windows: [number, TimeUnit][] = [
    [1, 'hours'],
    [24, 'hours'],
    [7, 'days'],
    [30, 'days'],
    [90, 'days'],
  ];
  const thresholds = [1, 2, 3, 5, 10, 20];
  const funnels = [
    ['Product Added', 'Order Completed'],
    ['Checkout Started', 'Order Completed'],
    ['Cart Viewed', 'Checkout Started'],
    ['Products Searched', 'Product Viewed'],
    ['Email Clicked', 'Order Completed'],
  ] as const;
  const spans: [number, TimeUnit][] = [
    [30, 'minutes'],
    [1, 'hours'],
    [1, 'days'],
  ];
  // Each family: its number of variants along each dimension, and the segment for one choice.
  const families: [number[], (d: number[]) => BenchSegment][] = [
    [
      [events.length, windows.length, thresholds.length],
      ([e, w, n]) => {
        const [amount, unit] = windows[w!]!;
        const name = `${events[e!]} ${thresholds[n!]}+ in ${amount} ${unit}`;
        return { name, condition: did(events[e!]!, last(amount, unit), atLeast(thresholds[n!]!)) };
      },
    ],
    [
      [CATEGORIES.length, 3, windows.length],
      ([c, e, w]) => {
        const event = ['Product Viewed', 'Product Added', 'Order Completed'][e!]!;
        const [amount, unit] = windows[w!]!;
        const condition = did(event, last(amount, unit), undefined, [eq('category', CATEGORIES[c!]!)]);
        return { name: `${event} ${CATEGORIES[c!]} in ${amount} ${unit}`, condition };
      },
    ],
    [
      [6, 3],
      ([v, w]) => {
        const value = [50, 100, 250, 500, 1000, 2500][v!]!;
        const [amount, unit] = windows[2 + w!]!;
        const condition = aggregate('Order Completed', 'sum', 'revenue', over(value), last(amount, unit));
        return { name: `Spent over ${value} in ${amount} ${unit}`, condition };
      },
    ],
    [
      [events.length, events.length - 1, 4],
      ([e, o, d]) => {
        const other = events[(e! + 1 + o!) % events.length]!;
        const days = [7, 14, 30, 60][d!]!;
        const condition = all(did(events[e!]!, last(days * 2)), didNot(other, last(days)));
        return { name: `${events[e!]} but no ${other} in ${days} days`, condition };
      },
    ],
    [
      [funnels.length, spans.length, 2],
      ([f, w, followed]) => {
        const [first, then] = funnels[f!]!;
        const [amount, unit] = spans[w!]!;
        const condition = funnel(first, then, amount, unit, last(7), followed === 0);
        return {
          name: `${first} ${followed === 0 ? 'then' : 'without'} ${then} within ${amount} ${unit}`,
          condition,
        };
      },
    ],
    [
      [COUNTRIES.length, events.length, 4],
      ([c, e, n]) => {
        const country = COUNTRIES[c!]!;
        const condition = all(
          attr('country', { operator: 'equals', value: country }),
          did(events[e!]!, last(7), atLeast(thresholds[n!]!)),
        );
        return { name: `${country} ${events[e!]} ${thresholds[n!]}+ in 7 days`, condition };
      },
    ],
    [
      [events.length, events.length - 1, 3],
      ([a, b, n]) => {
        const other = events[(a! + 1 + b!) % events.length]!;
        const condition = any(
          did(events[a!]!, last(24, 'hours'), atLeast(thresholds[n!]!)),
          all(did(other, last(24, 'hours')), not(did('Order Completed', last(30)))),
        );
        return { name: `${events[a!]} ${thresholds[n!]}+ or ${other} without orders, today`, condition };
      },
    ],
  ];
  const out = new Map<string, BenchSegment>();
  // Round robin over the families; within one, a stride coprime to its size visits every variant.
  for (let i = 0; out.size < count; i++) {
    const [sizes, make] = families[i % families.length]!;
    const size = sizes.reduce((a, b) => a * b, 1);
    const round = Math.floor(i / families.length);
    if (round >= size && i > count * families.length) throw new Error(`only ${out.size} streaming segments`);
    let index = (round * 7919) % size;
    const digits = sizes.map((n) => {
      const d = index % n;
      index = Math.floor(index / n);
      return d;
    });
    const seg = make(digits);
    if (round < size && !out.has(seg.name)) out.set(seg.name, seg);
  }
  return [...out.values()];
}
