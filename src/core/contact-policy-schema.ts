import { z } from 'zod';
import { TimeZoneSchema } from './schedule-schema.js';
import { DurationSchema } from './segment-schema.js';

const channel = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9_-]+$/, 'lowercase letters, digits, - and _ (e.g. email, sms)');
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM (24 hours)');

/**
 * The workspace's contact policy, applied to every activation before it sends: at most `max`
 * contacts on a channel per profile in any `per` period, and no contact during quiet hours in the
 * profile's own time zone. A destination's channel is its consent purpose.
 */
export const ContactPolicySchema = z.object({
  frequencyCaps: z
    .array(z.object({ channel, max: z.number().int().min(1).max(1000), per: DurationSchema }))
    .max(50)
    .default([]),
  quietHours: z
    .object({
      start: clock.describe('when quiet hours begin, local time (e.g. 21:00)'),
      end: clock.describe('when they end, local time (e.g. 08:00; before start means overnight)'),
      channels: z.array(channel).min(1).optional().describe('the channels they apply to; default: all'),
      timeZoneAttribute: z
        .string()
        .min(1)
        .default('time_zone')
        .describe('the profile attribute naming its IANA time zone'),
      defaultTimeZone: TimeZoneSchema.default('UTC').describe('for profiles without a (valid) time zone'),
    })
    .refine((q) => q.start !== q.end, { message: 'start and end must differ', path: ['end'] })
    .optional(),
});
export type ContactPolicy = z.output<typeof ContactPolicySchema>;
