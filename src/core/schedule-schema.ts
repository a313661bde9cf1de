import { z } from 'zod';

/** A time zone name the runtime knows (IANA, e.g. `Europe/Paris`). */
export const TimeZoneSchema = z
  .string()
  .min(1)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Paris');

/**
 * When an activation runs: once now, once at a time, or on a recurrence (a cron expression read
 * in a time zone, so "every day at 09:00 Europe/Paris" follows daylight saving time).
 */
export const ScheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('now') }),
  z.object({
    kind: z.literal('at'),
    at: z.iso.datetime({ offset: true }).describe('when, e.g. 2026-12-01T09:00:00Z'),
  }),
  z.object({
    kind: z.literal('recurring'),
    cron: z
      .string()
      .min(1)
      .describe('five fields (minute hour day month weekday), or six with seconds first'),
    timeZone: TimeZoneSchema.default('UTC'),
    /** No run before this time (e.g. a campaign's launch date). */
    startAt: z.iso.datetime({ offset: true }).optional(),
    /** No run after this time. */
    endAt: z.iso.datetime({ offset: true }).optional(),
  }),
]);
export type Schedule = z.output<typeof ScheduleSchema>;
