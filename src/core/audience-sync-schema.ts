import { z } from 'zod';

/**
 * An audience sync: a segment kept in step with a destination. `fields` maps each destination
 * field to what fills it: `profile_id`, a profile attribute, `trait:<name>` (a computed trait) or
 * `identifier:<namespace>` (e.g. `identifier:email`, the first one seen).
 */
export const CreateAudienceSyncSchema = z.object({
  name: z.string().trim().min(1).max(200),
  segmentId: z.string().min(1),
  destinationId: z.string().min(1),
  fields: z
    .record(z.string().min(1), z.string().min(1))
    .optional()
    .describe(
      'destination field → profile_id, an attribute name, or trait:<name>; default: the destination’s default fields',
    ),
});
export type CreateAudienceSync = z.output<typeof CreateAudienceSyncSchema>;
