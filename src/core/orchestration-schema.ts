import { z } from 'zod';
import { ScheduleSchema } from './schedule-schema.js';

/**
 * The fields of an orchestration: a read-only SQL query over the workspace views, sent on a
 * schedule to a file destination. The file's format, compression and name are the destination's
 * (its config holds the file options every file connector shares), so one query can go out as
 * CSV to one folder and as Parquet to another by sending it to two destinations.
 */
const fields = {
  name: z.string().trim().min(1).max(200),
  query: z
    .string()
    .trim()
    .min(1)
    .max(100_000)
    .describe(
      'One SELECT over the workspace views (GET /api/orchestrations/views): profiles, identifiers, events, memberships',
    ),
  destinationId: z.string().min(1).describe('a file destination (folder, s3, sftp): it fixes the format'),
  schedule: ScheduleSchema,
  skipUnchanged: z
    .boolean()
    .describe('Send nothing when the result is the same, row for row, as the last run’s'),
  enabled: z.boolean().describe('Whether the schedule runs (a run can still be started by hand)'),
};

export const CreateOrchestrationSchema = z.object({
  ...fields,
  skipUnchanged: fields.skipUnchanged.default(false),
  enabled: fields.enabled.default(true),
});
export type CreateOrchestration = z.output<typeof CreateOrchestrationSchema>;

/** A change to an orchestration: only the fields given change (no defaults fill the others). */
export const UpdateOrchestrationSchema = z.object(fields).partial();
export type UpdateOrchestration = z.output<typeof UpdateOrchestrationSchema>;

/** A query to try out: its columns and first rows. */
export const PreviewQuerySchema = z.object({
  query: fields.query,
  limit: z.int().min(0).max(1000).default(50).describe('rows to return; 0 for the columns only'),
});
export type PreviewQuery = z.output<typeof PreviewQuerySchema>;
