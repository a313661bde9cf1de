import { z } from 'zod';

export const TRAIT_AGGREGATES = [
  'count',
  'sum',
  'average',
  'min',
  'max',
  'first_time',
  'last_time',
  'most_frequent',
  // RFM quintiles (1-5, 5 best) among every profile with a matching event: recomputed in full.
  'recency_score',
  'frequency_score',
  'monetary_score',
] as const;
export type TraitAggregate = (typeof TRAIT_AGGREGATES)[number];

const NEEDS_PROPERTY: readonly TraitAggregate[] = [
  'sum',
  'average',
  'min',
  'max',
  'most_frequent',
  'monetary_score',
];

/** Aggregates that rank each profile among all others: a change anywhere can move everyone's value. */
export const POPULATION_AGGREGATES: readonly TraitAggregate[] = [
  'recency_score',
  'frequency_score',
  'monetary_score',
];

/**
 * A computed trait: an aggregate over a profile's events, e.g.
 * `{ "name": "lifetime_revenue", "event": "Order Completed", "aggregate": "sum", "property": "revenue" }`.
 */
export const ComputedTraitSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/, 'a trait name is lowercase with underscores, e.g. lifetime_revenue')
      .max(64),
    description: z.string().max(500).optional(),
    /** The event name (`track` event or page/screen name); unset: every event. */
    event: z.string().min(1).optional(),
    aggregate: z.enum(TRAIT_AGGREGATES),
    /**
     * The event property aggregated, a dotted path such as `revenue` or `product.category`; for
     * `frequency_score`, optional: count distinct values (e.g. order ids) instead of events.
     */
    property: z
      .string()
      .regex(/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/, 'a property path such as revenue or product.category')
      .optional(),
  })
  .superRefine((t, ctx) => {
    if (NEEDS_PROPERTY.includes(t.aggregate) && !t.property) {
      ctx.addIssue({
        code: 'custom',
        path: ['property'],
        message: `${t.aggregate} needs the property to aggregate`,
      });
    }
  });
export type ComputedTrait = z.output<typeof ComputedTraitSchema>;
