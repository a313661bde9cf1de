import { z } from 'zod';
import { ConsentPurposeSchema } from './consent.js';
import { MarketingActionSchema } from './governance-schema.js';

/** How the outbox retries one destination's failed deliveries before it dead-letters them. */
export const RetryPolicySchema = z.object({
  /** The first retry waits about this long; each further one twice as long (with jitter). */
  initialDelayMs: z.number().int().min(10).max(3_600_000).default(5_000),
  maxDelayMs: z.number().int().min(10).max(86_400_000).default(3_600_000),
  /** After this long since the first attempt, a delivery that still fails is dead-lettered. */
  windowMs: z
    .number()
    .int()
    .min(100)
    .max(7 * 86_400_000)
    .default(86_400_000),
});
export type RetryPolicy = z.output<typeof RetryPolicySchema>;

/** How the outbox treats one destination (the connector's config is separate). */
export const DestinationSettingsSchema = z.object({
  retry: RetryPolicySchema.default(RetryPolicySchema.parse({})),
  /** Consecutive failed attempts that open the circuit breaker (no attempts for `breakerCooldownMs`). */
  breakerThreshold: z.number().int().min(1).max(1000).default(5),
  breakerCooldownMs: z.number().int().min(10).max(3_600_000).default(30_000),
  /** Longest a single attempt may take before it counts as failed (and is retried). */
  attemptTimeoutMs: z.number().int().min(100).max(3_600_000).default(600_000),
});
export type DestinationSettings = z.output<typeof DestinationSettingsSchema>;

/** A destination as created through the API: the connector's config is checked against its own schema. */
export const CreateDestinationSchema = z.object({
  name: z.string().trim().min(1).max(200),
  connector: z.string().min(1).describe('a connector id from GET /api/connectors'),
  config: z.record(z.string(), z.unknown()),
  settings: DestinationSettingsSchema.partial().optional(),
  enabled: z.boolean().default(true),
  purpose: ConsentPurposeSchema.optional().describe(
    'the consent purpose a profile must have granted to be sent here (e.g. email, advertising); none: no consent needed',
  ),
  marketingActions: z
    .array(MarketingActionSchema)
    .max(50)
    .default([])
    .describe(
      'what the destination is used for (e.g. advertising, email-marketing, export): data-usage policies forbid labels per action',
    ),
});
export type CreateDestination = z.output<typeof CreateDestinationSchema>;

/**
 * A change to a destination: secret fields left out keep their stored values; what is left out
 * stays as it is (no defaults apply); `purpose: null` removes the purpose.
 */
export const UpdateDestinationSchema = z.object({
  name: CreateDestinationSchema.shape.name.optional(),
  config: CreateDestinationSchema.shape.config.optional(),
  settings: CreateDestinationSchema.shape.settings,
  enabled: z.boolean().optional(),
  purpose: ConsentPurposeSchema.nullable().optional(),
  marketingActions: z.array(MarketingActionSchema).max(50).optional(),
});
export type UpdateDestination = z.output<typeof UpdateDestinationSchema>;

export const DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
