import { z } from 'zod';
import type { Issue } from './errors.js';

const token = (what: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .regex(
      /^[a-z][a-z0-9_.-]{0,63}$/,
      `${what}: a lowercase name (letters, digits, _ . -), starting with a letter`,
    );

/** A data-usage label on an attribute: `pii`, `sensitive`, `financial`, ... (free-form). */
export const DataLabelSchema = token('a label');

/** What a destination is used for: `advertising`, `email-marketing`, `export`, ... (free-form). */
export const MarketingActionSchema = token('a marketing action');

/** An attribute as activations name a field source: `email`, `trait:ltv`, `identifier:email`, `profile_id`. */
export const LabelledAttributeSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^(trait:|identifier:)?[^:\s]+$/, 'an attribute name, trait:<name> or identifier:<namespace>');

/**
 * The labels of one attribute, named as activations name field sources: `<attribute>`,
 * `trait:<name>`, `identifier:<namespace>` or `profile_id`. An empty list removes them.
 */
export const SetDataLabelsSchema = z.object({
  labels: z
    .array(DataLabelSchema)
    .max(50)
    .transform((labels) => [...new Set(labels)].sort()),
});
export type SetDataLabels = z.output<typeof SetDataLabelsSchema>;

/** A data-usage policy: attributes with any of `labels` may not go to destinations with any of `marketingActions`. */
export const CreatePolicySchema = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  labels: z.array(DataLabelSchema).min(1).max(50),
  marketingActions: z.array(MarketingActionSchema).min(1).max(50),
  enabled: z.boolean().default(true),
});
export type CreatePolicy = z.output<typeof CreatePolicySchema>;

/** A change to a policy: what is left out stays as it is. */
export const UpdatePolicySchema = z.object({
  name: CreatePolicySchema.shape.name.optional(),
  description: z.string().max(2000).nullable().optional(),
  labels: CreatePolicySchema.shape.labels.optional(),
  marketingActions: CreatePolicySchema.shape.marketingActions.optional(),
  enabled: z.boolean().optional(),
});
export type UpdatePolicy = z.output<typeof UpdatePolicySchema>;

export interface Policy {
  id: string;
  name: string;
  description: string | undefined;
  labels: string[];
  marketingActions: string[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What the policy check needs to know of a destination. */
export interface PolicyTarget {
  name: string;
  marketingActions: readonly string[];
}

/**
 * The fields (destination field → source) that enabled policies forbid for a destination: one
 * issue per field, label and policy, at `path` plus the field, e.g. "identifier:email (label pii)
 * may not go to Meta ads (advertising): policy No PII to ads".
 */
export function policyViolations(
  destination: PolicyTarget,
  fields: Readonly<Record<string, string>>,
  labelsOf: ReadonlyMap<string, readonly string[]>,
  policies: readonly Policy[],
  path: readonly (string | number)[],
): Issue[] {
  const issues: Issue[] = [];
  const actions = new Set(destination.marketingActions);
  for (const [field, source] of Object.entries(fields)) {
    for (const label of labelsOf.get(source) ?? []) {
      for (const policy of policies) {
        if (!policy.enabled || !policy.labels.includes(label)) continue;
        const forbidden = policy.marketingActions.filter((a) => actions.has(a));
        if (forbidden.length === 0) continue;
        issues.push({
          code: 'policy_violation',
          path: [...path, field],
          message: `${source} (label ${label}) may not go to ${destination.name} (${forbidden.join(', ')}): policy ${policy.name}`,
        });
      }
    }
  }
  return issues;
}
