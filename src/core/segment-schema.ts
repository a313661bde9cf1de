import { z } from 'zod';

/** Units of a relative time span. */
export const TIME_UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

const UNIT_MS: Record<TimeUnit, number> = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** A span such as `{ "amount": 7, "unit": "days" }`. */
export const DurationSchema = z.object({
  amount: z.number().int().positive().max(100_000),
  unit: z.enum(TIME_UNITS),
});
export type Duration = z.output<typeof DurationSchema>;

export function durationMs(d: Duration): number {
  return d.amount * UNIT_MS[d.unit];
}

const instant = z.iso.datetime({ offset: true, message: 'an ISO-8601 time such as 2026-01-31T00:00:00Z' });
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const finite = z.number().finite();

/** A dotted path into a profile attribute or event property: `revenue`, `product.category`. */
export const PropertyPathSchema = z
  .string()
  .regex(/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/, 'a property path such as revenue or product.category');

/**
 * A test of one value (a profile attribute, a computed trait, an event property). Text tests are
 * case-insensitive; `greater_than`, `less_than` and `between` compare numbers; the date tests read
 * the value as an ISO-8601 time.
 */
export const ValueTestSchema = z.discriminatedUnion('operator', [
  z.object({ operator: z.enum(['equals', 'not_equals']), value: scalar }),
  z.object({ operator: z.literal('in'), values: z.array(scalar).min(1).max(1000) }),
  z.object({ operator: z.enum(['contains', 'starts_with']), value: z.string().min(1) }),
  z.object({ operator: z.enum(['greater_than', 'less_than']), value: finite }),
  z.object({ operator: z.literal('between'), min: finite, max: finite }),
  z.object({ operator: z.enum(['exists', 'is_empty']) }),
  z.object({ operator: z.enum(['before', 'after']), value: instant }),
  z.object({
    operator: z.enum(['within_last', 'within_next']),
    amount: z.number().int().positive(),
    unit: z.enum(TIME_UNITS),
  }),
]);
export type ValueTest = z.output<typeof ValueTestSchema>;

/** A comparison of a count or an aggregate with a number. */
export const NumberTestSchema = z.discriminatedUnion('operator', [
  z.object({
    operator: z.enum(['at_least', 'at_most', 'exactly', 'greater_than', 'less_than']),
    value: finite,
  }),
  z.object({ operator: z.literal('between'), min: finite, max: finite }),
]);
export type NumberTest = z.output<typeof NumberTestSchema>;

/** A filter on an event property: `{ "property": "category", "test": { "operator": "equals", "value": "Shoes" } }`. */
export const PropertyFilterSchema = z.object({ property: PropertyPathSchema, test: ValueTestSchema });
export type PropertyFilter = z.output<typeof PropertyFilterSchema>;

/** Which events count by their time: the last N units before now, a fixed range, or all. */
export const WindowSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ever') }),
  z.object({
    kind: z.literal('last'),
    amount: z.number().int().positive().max(100_000),
    unit: z.enum(TIME_UNITS),
  }),
  z.object({ kind: z.literal('between'), from: instant, to: instant }),
]);
export type Window = z.output<typeof WindowSchema>;

export const AGGREGATE_FUNCTIONS = ['sum', 'average', 'min', 'max', 'distinct_count'] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

/** How often a profile performed the event, or an aggregate of a property over those events. */
export const MeasureSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('count'), test: NumberTestSchema }),
  z.object({
    kind: z.literal('aggregate'),
    function: z.enum(AGGREGATE_FUNCTIONS),
    property: PropertyPathSchema,
    test: NumberTestSchema,
  }),
]);
export type Measure = z.output<typeof MeasureSchema>;

const eventName = z.string().min(1).max(200);
const where = z.array(PropertyFilterSchema).max(20).optional();

/** One step of a sequence: an event name with optional property filters. */
export const EventStepSchema = z.object({ event: eventName, where });
export type EventStep = z.output<typeof EventStepSchema>;

/** What a ranking orders profiles by: an aggregate of their events, or a numeric attribute or trait. */
export const MetricSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('event'),
    event: eventName,
    where,
    window: WindowSchema.optional(),
    function: z.enum(['count', ...AGGREGATE_FUNCTIONS]),
    property: PropertyPathSchema.optional(),
  }),
  z.object({ kind: z.literal('attribute'), attribute: PropertyPathSchema }),
  z.object({ kind: z.literal('trait'), trait: z.string().min(1) }),
]);
export type Metric = z.output<typeof MetricSchema>;

export type Condition =
  | { kind: 'all'; conditions: Condition[] }
  | { kind: 'any'; conditions: Condition[] }
  | { kind: 'not'; condition: Condition }
  | { kind: 'attribute'; attribute: string; test: ValueTest }
  | { kind: 'trait'; trait: string; test: ValueTest }
  | {
      kind: 'event';
      event: string;
      where?: PropertyFilter[] | undefined;
      window?: Window | undefined;
      /** `false`: did not perform it (in the window). */
      performed?: boolean | undefined;
      /** Unset: at least once. */
      measure?: Measure | undefined;
    }
  | {
      kind: 'sequence';
      first: EventStep;
      next: EventStep;
      within: Duration;
      /** `false`: the first step was not followed by the second within `within` (abandonment). */
      followed?: boolean | undefined;
      /** Which first steps count, by their time. */
      window?: Window | undefined;
    }
  | { kind: 'segment'; segment: string }
  | {
      kind: 'rank';
      metric: Metric;
      direction: 'top' | 'bottom';
      percent?: number | undefined;
      count?: number | undefined;
    };

export type ConditionKind = Condition['kind'];

const conditionList = (): z.ZodType<Condition[]> => z.array(ConditionSchema).min(1).max(100);

/** The segment language: a tree of conditions tagged by `kind`. */
export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('all'), conditions: conditionList() }),
    z.object({ kind: z.literal('any'), conditions: conditionList() }),
    z.object({ kind: z.literal('not'), condition: ConditionSchema }),
    z.object({ kind: z.literal('attribute'), attribute: PropertyPathSchema, test: ValueTestSchema }),
    z.object({
      kind: z.literal('trait'),
      trait: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a computed trait name'),
      test: ValueTestSchema,
    }),
    z
      .object({
        kind: z.literal('event'),
        event: eventName,
        where,
        window: WindowSchema.optional(),
        performed: z.boolean().optional(),
        measure: MeasureSchema.optional(),
      })
      .refine((c) => c.performed !== false || c.measure === undefined, {
        path: ['measure'],
        message: 'a condition on an event not performed takes no measure',
      }),
    z.object({
      kind: z.literal('sequence'),
      first: EventStepSchema,
      next: EventStepSchema,
      within: DurationSchema,
      followed: z.boolean().optional(),
      window: WindowSchema.optional(),
    }),
    z.object({ kind: z.literal('segment'), segment: z.string().min(1) }),
    z
      .object({
        kind: z.literal('rank'),
        metric: MetricSchema,
        direction: z.enum(['top', 'bottom']),
        percent: z.number().positive().max(100).optional(),
        count: z.number().int().positive().optional(),
      })
      .refine((c) => (c.percent === undefined) !== (c.count === undefined), {
        path: ['percent'],
        message: 'a ranking takes either percent or count',
      }),
  ]),
) as z.ZodType<Condition>;

/** A segment as it is created or replaced: `PUT /api/segments/:id`. */
export const SegmentDefinitionSchema = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  condition: ConditionSchema,
});
export type SegmentDefinition = z.output<typeof SegmentDefinitionSchema>;

/** How a segment is kept current, and why. */
export type EvaluationMode = 'streaming' | 'batch';

export interface Segment extends SegmentDefinition {
  id: string;
  mode: EvaluationMode;
  /** Why the segment is batch-only (unset for streaming ones). */
  modeReason?: string | undefined;
  /** The definition as one sentence. */
  sentence: string;
  createdAt: Date;
  updatedAt: Date;
}

/** `POST /api/segments/preview`: an unsaved definition and what to measure about it. */
export const SegmentPreviewSchema = z.object({
  condition: ConditionSchema,
  /** How many member profile ids to return. */
  sample: z.number().int().min(0).max(100).default(10),
  /** A numeric attribute or computed trait to total and average over the members (e.g. lifetime revenue). */
  value: z
    .union([z.object({ trait: z.string().min(1) }), z.object({ attribute: PropertyPathSchema })])
    .optional(),
  /** Saved segments to measure the overlap with. */
  overlapWith: z.array(z.string().min(1)).max(20).default([]),
});
export type SegmentPreview = z.output<typeof SegmentPreviewSchema>;
