import { z } from 'zod';
import { MatchingRuleSetSchema } from './matching-schema.js';

/** Namespaces Sluice knows how to normalize; a source's mapping may name others (`loyalty_id`). */
export const BUILT_IN_NAMESPACES = ['user_id', 'email', 'phone', 'anonymous_id', 'device_id'] as const;

const namespace = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'an identifier namespace is lowercase, e.g. email or loyalty_id');

/** How one unified attribute picks its value among the values a profile's records and traits give. */
export const SurvivorshipRuleSchema = z.discriminatedUnion('rule', [
  z.object({ rule: z.literal('most_recent') }),
  z.object({ rule: z.literal('first_seen') }),
  z.object({ rule: z.literal('most_frequent') }),
  /** The first source (by name) in the list that has a value wins; other sources only when none has. */
  z.object({ rule: z.literal('source_priority'), sources: z.array(z.string().min(1)).min(1) }),
]);
export type SurvivorshipRule = z.output<typeof SurvivorshipRuleSchema>;

const DEFAULT_LIMITS: Record<string, number> = {
  user_id: 1,
  customer_id: 1,
  loyalty_id: 1,
  email: 5,
  phone: 5,
  device_id: 20,
};

const pattern = z.string().refine((p) => {
  try {
    new RegExp(p, 'i');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

/**
 * How identifiers are stitched into profiles. The defaults suit a brand with accounts, a CRM and a
 * loyalty programme; every part can be overridden.
 */
export const IdentityConfigSchema = z.object({
  /**
   * Namespaces from most to least trusted. An observation links its identifiers in this order, so a
   * refused link drops the less trusted identifier. Namespaces not listed rank after the listed
   * person keys and before `email`.
   */
  priority: z
    .array(namespace)
    .default(['user_id', 'customer_id', 'loyalty_id', 'email', 'phone', 'device_id', 'anonymous_id']),
  /** At most this many identifiers of a namespace per profile; a link that would exceed it is refused. */
  limits: z
    .record(namespace, z.number().int().min(1))
    .default({})
    // Given limits override the defaults one by one; the others stay.
    .transform((limits) => ({ ...DEFAULT_LIMITS, ...limits })),
  /** Limit for custom namespaces not in `limits` (they are usually one-per-person keys). */
  defaultLimit: z.number().int().min(1).default(1),
  /** Values that link nothing: regular expressions matched against the normalized value. */
  blocked: z.record(z.union([namespace, z.literal('*')]), z.array(pattern)).default({
    '*': ['^(null|none|nil|unknown|undefined|n/?a|test|-|0)$'],
    email: ['^test@test\\.com$', '^test@example\\.com$', '^(no|none|noemail|no-reply|noreply|donotreply)@'],
    phone: ['^\\+?0+$', '^\\+?1?(\\d)\\1{9}$', '^\\+1?1234567890$'],
  }),
  /**
   * An identifier seen with the person keys (namespaces limited to one per profile) of more than
   * this many profiles that the guardrails keep apart is flagged as shared (a family email, a
   * store's generic email, a shared device) and no longer used to merge.
   */
  maxSharedBy: z.number().int().min(1).default(1),
  /** Country for phone numbers written without a country code (ISO 3166 alpha-2). */
  defaultCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 country code such as US')
    .default('US'),
  /** Survivorship per attribute name; attributes not listed use `defaultRule`. */
  attributes: z.record(z.string().min(1), SurvivorshipRuleSchema).default({}),
  defaultRule: SurvivorshipRuleSchema.default({ rule: 'most_recent' }),
  /**
   * Probabilistic matching of profile records that share no key (`POST /api/identity/match`): the
   * records' attributes and identifiers are the fields the rule set compares.
   */
  probabilistic: z
    .object({
      /** Profile sources (by name) whose records are matched; empty: every profile source. */
      sources: z.array(z.string().min(1)).default([]),
      rules: MatchingRuleSetSchema,
    })
    .optional(),
});
export type IdentityConfig = z.output<typeof IdentityConfigSchema>;

/** An identifier as `namespace:value`, e.g. `email:ann@example.com`. */
export const IdentifierRefSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]*:.+$/, 'write an identifier as namespace:value, e.g. email:ann@example.com');
