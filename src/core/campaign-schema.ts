import { z } from 'zod';
import { ScheduleSchema } from './schedule-schema.js';
import { type Condition, ConditionSchema } from './segment-schema.js';

/**
 * Destination field → what fills it: `profile_id`, a profile attribute's name, `trait:<name>` (a
 * computed trait) or `identifier:<namespace>` (the profile's first identifier there).
 */
export const FieldMappingSchema = z
  .record(z.string().trim().min(1).max(200), z.string().trim().min(1).max(200))
  .describe('destination field → profile_id, an attribute, trait:<name> or identifier:<namespace>');
export type FieldMapping = z.output<typeof FieldMappingSchema>;

const percent = z.number().gt(0).max(100);
const groupName = z.string().trim().min(1).max(100);

/** Where one treatment group goes, with what; `fields` defaults to the destination's default attributes. */
export const CampaignDestinationSchema = z.strictObject({
  destinationId: z.string().min(1),
  fields: FieldMappingSchema.optional(),
});

export const TreatmentGroupSchema = z.strictObject({
  name: groupName,
  percent,
  destinations: z.array(CampaignDestinationSchema).max(20).default([]),
});
export type TreatmentGroup = z.output<typeof TreatmentGroupSchema>;

/**
 * Part of a campaign's audience: the profiles its condition selects (every profile left when it
 * has none), split into treatment groups and an optional control group, summing to 100%.
 */
export const SubAudienceSchema = z.strictObject({
  name: groupName,
  condition: (ConditionSchema as z.ZodType<Condition>).optional(),
  treatments: z.array(TreatmentGroupSchema).max(20).default([]),
  control: z.strictObject({ percent }).optional(),
});
export type SubAudience = z.output<typeof SubAudienceSchema>;

/**
 * A campaign as saved: a draft may be incomplete (no segment yet, percentages that do not add up);
 * launching checks everything and reports every problem at once.
 */
export const CampaignDefinitionSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  include: z
    .array(z.string().min(1))
    .max(50)
    .default([])
    .describe('segment ids: their union is the audience'),
  exclude: z.array(z.string().min(1)).max(50).default([]).describe('segment ids whose members are left out'),
  subAudiences: z
    .array(SubAudienceSchema)
    .max(50)
    .default([])
    .describe('ordered: a profile falls into the first whose condition it meets'),
  launchDate: z.iso.date().optional().describe('the day the campaign starts, for results (YYYY-MM-DD)'),
  schedule: ScheduleSchema.default({ kind: 'now' }),
});
export type CampaignDefinition = z.output<typeof CampaignDefinitionSchema>;

export const CAMPAIGN_STATUSES = [
  'draft',
  'scheduled',
  'running',
  'completed',
  'paused',
  'cancelled',
  'failed',
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** What happened to one newly qualified profile at one destination (or in the control group). */
export const MEMBER_OUTCOMES = ['sent', 'control', 'suppressed', 'held', 'unmatched'] as const;
export type MemberOutcome = (typeof MEMBER_OUTCOMES)[number];

export interface Campaign extends CampaignDefinition {
  id: string;
  status: CampaignStatus;
  createdAt: Date;
  updatedAt: Date;
}
