import { z } from 'zod';

/**
 * Probabilistic matching (Fellegi-Sunter) for sources that share no key: how two records are
 * compared field by field, which pairs are compared at all (blocking), how the model is trained
 * (expectation maximisation on the data itself, no labels) and where a pair becomes a match.
 */

const fieldName = z
  .string()
  .regex(/^[A-Za-z_][\w.-]*$/, 'a field name uses letters, digits, dots, dashes and underscores');

const strictly = (order: 'ascending' | 'descending') => (values: number[]) =>
  values.every((v, i) => i === 0 || (order === 'ascending' ? v > values[i - 1]! : v < values[i - 1]!));

/** Levels: null (either side missing), then exact, then the bands in order, else. */
export const ExactComparisonSchema = z.object({ kind: z.literal('exact') });

/** `{ "kind": "jaro_winkler", "thresholds": [0.92, 0.85] }`: exact, ≥ 0.92, ≥ 0.85, else. */
export const JaroWinklerComparisonSchema = z.object({
  kind: z.literal('jaro_winkler'),
  thresholds: z
    .array(z.number().gt(0).lt(1))
    .min(1)
    .max(4)
    .refine(strictly('descending'), 'list thresholds from highest to lowest, e.g. [0.92, 0.85]'),
});

/** `{ "kind": "levenshtein", "maxEdits": [1, 2] }`: exact, at most 1 edit, at most 2, else. */
export const LevenshteinComparisonSchema = z.object({
  kind: z.literal('levenshtein'),
  maxEdits: z
    .array(z.number().int().min(1).max(8))
    .min(1)
    .max(4)
    .refine(strictly('ascending'), 'list edit counts from lowest to highest, e.g. [1, 2]'),
  /** Count a swap of two adjacent characters (`5162`/`5612`) as one edit (Damerau). */
  transpositions: z.boolean().default(true),
});

/** Numbers within absolute bands (`|a - b| <= x`), then relative ones (`|a - b| / max(|a|, |b|) <= r`). */
export const NumericComparisonSchema = z
  .object({
    kind: z.literal('numeric'),
    absolute: z
      .array(z.number().positive())
      .max(4)
      .default([])
      .refine(strictly('ascending'), 'list bands from narrowest to widest'),
    relative: z
      .array(z.number().positive().max(1))
      .max(4)
      .default([])
      .refine(strictly('ascending'), 'list bands from narrowest to widest'),
  })
  .refine((c) => c.absolute.length + c.relative.length > 0, 'give at least one absolute or relative band');

/**
 * Dates written `yyyymmdd` or `yyyy-mm-dd` (anything after is ignored): exact, then optionally
 * within `maxEdits` typing errors, then within each band of days, else.
 */
export const DateComparisonSchema = z.object({
  kind: z.literal('date'),
  maxEdits: z.number().int().min(1).max(2).optional(),
  days: z
    .array(z.number().positive())
    .min(1)
    .max(4)
    .refine(strictly('ascending'), 'list bands from narrowest to widest, e.g. [31, 366]'),
});

export const MatchComparisonSchema = z.discriminatedUnion('kind', [
  ExactComparisonSchema,
  JaroWinklerComparisonSchema,
  LevenshteinComparisonSchema,
  NumericComparisonSchema,
  DateComparisonSchema,
]);
export type MatchComparison = z.output<typeof MatchComparisonSchema>;

/** One compared field. Values are trimmed and lowercased; an empty value is missing (weight 0). */
export const MatchFieldSchema = z.object({
  name: fieldName,
  comparison: MatchComparisonSchema,
  /** Weigh an exact agreement by how rare the value is (`smith` counts less than `sondergeld`). */
  termFrequency: z.boolean().default(false),
  /** A level for a value found in this other field of the other record (given name and surname swapped). */
  swapWith: fieldName.optional(),
});
export type MatchField = z.output<typeof MatchFieldSchema>;
export type MatchFieldInput = z.input<typeof MatchFieldSchema>;

export const BlockingTransformSchema = z.discriminatedUnion('kind', [
  /** The first `length` characters. */
  z.object({ kind: z.literal('prefix'), length: z.number().int().min(1).max(20) }),
  /** American Soundex (`robert` and `rupert` → `R163`). */
  z.object({ kind: z.literal('soundex') }),
]);
export type BlockingTransform = z.output<typeof BlockingTransformSchema>;

/** `"surname"`, or `{ "field": "surname", "transform": { "kind": "soundex" } }`. */
export const BlockingKeySchema = z.union([
  fieldName,
  z.object({ field: fieldName, transform: BlockingTransformSchema.optional() }),
]);
export type BlockingKey = z.output<typeof BlockingKeySchema>;

/** Two records are compared when they agree on every key of at least one rule (missing never agrees). */
export const BlockingRuleSchema = z.object({
  on: z.array(BlockingKeySchema).min(1).max(6),
  /** Blocks larger than this are skipped (and counted), so one common value cannot explode the pairs. */
  maxBlockSize: z.number().int().min(2).optional(),
});
export type BlockingRule = z.output<typeof BlockingRuleSchema>;

/** Where a pair becomes a match: a total match weight (log2 odds) or the equivalent probability. */
export const MatchThresholdSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('match_weight'), value: z.number() }),
  z.object({ kind: z.literal('probability'), value: z.number().gt(0).lt(1) }),
]);
export type MatchThreshold = z.output<typeof MatchThresholdSchema>;

export const EmSettingsSchema = z.object({
  /** Training sessions, one per rule; each estimates m for the fields its rule does not block on. */
  blocking: z.array(BlockingRuleSchema).min(1).optional(),
  maxIterations: z.number().int().min(1).max(1000).default(30),
  /** Stop when no m probability moves by more than this. */
  tolerance: z.number().positive().default(1e-5),
  /** Candidate pairs sampled per training session (and to estimate the share of matches). */
  sampleSize: z.number().int().min(1000).default(300_000),
  /** Random record pairs sampled to estimate u (all pairs when there are fewer). */
  uSampleSize: z.number().int().min(1000).default(1_000_000),
  /** The share of matches among a session's candidate pairs that EM starts from. */
  initialPrior: z.number().gt(0).lt(1).default(0.1),
  seed: z.number().int().default(1),
});
export type EmSettings = z.output<typeof EmSettingsSchema>;

/** A probabilistic rule set: the single source of truth for its type, API validation and docs. */
export const MatchingRuleSetSchema = z
  .object({
    fields: z.array(MatchFieldSchema).min(1).max(16),
    blocking: z.array(BlockingRuleSchema).min(1).max(16),
    threshold: MatchThresholdSchema.default({ kind: 'match_weight', value: 0 }),
    /** Pairs up to this much match weight below the threshold are listed for review, not merged. */
    reviewBand: z.number().min(0).default(4),
    em: EmSettingsSchema.prefault({}),
  })
  .superRefine((set, ctx) => {
    const names = new Set<string>();
    set.fields.forEach((f, i) => {
      if (names.has(f.name)) {
        ctx.addIssue({ code: 'custom', path: ['fields', i, 'name'], message: `${f.name} is listed twice` });
      }
      names.add(f.name);
    });
    set.fields.forEach((f, i) => {
      if (f.swapWith !== undefined && (!names.has(f.swapWith) || f.swapWith === f.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['fields', i, 'swapWith'],
          message: `swapWith must name another compared field, not ${f.swapWith}`,
        });
      }
    });
    const checkRules = (rules: BlockingRule[], path: (string | number)[]) => {
      rules.forEach((rule, r) => {
        rule.on.forEach((key, k) => {
          const field = typeof key === 'string' ? key : key.field;
          if (!names.has(field)) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, r, 'on', k],
              message: `blocking on ${field}, which is not a compared field`,
            });
          }
        });
      });
    };
    checkRules(set.blocking, ['blocking']);
    if (set.em.blocking) checkRules(set.em.blocking, ['em', 'blocking']);
  });
export type MatchingRuleSet = z.output<typeof MatchingRuleSetSchema>;
export type MatchingRuleSetInput = z.input<typeof MatchingRuleSetSchema>;
