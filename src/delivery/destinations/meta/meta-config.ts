import { z } from 'zod';
import { secret } from '../../secret-fields.js';

/** A Meta Custom Audience destination: which audience, through which Graph API version, with whose token. */
export const MetaConfigSchema = z.object({
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'baseUrl must be an http:// or https:// URL' })
    .default('https://graph.facebook.com')
    .describe('The Graph API host; change it only to point at a test server.'),
  apiVersion: z
    .string()
    .regex(/^v\d+\.\d+$/, 'apiVersion must be a Graph API version such as v21.0')
    .default('v21.0'),
  audienceId: z
    .string()
    .regex(/^\d+$/, 'audienceId must be the numeric id of a customer-list Custom Audience')
    .describe('The Custom Audience people are added to and removed from.'),
  accessToken: secret('A system user access token with the ads_management permission.'),
  defaultCountry: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'defaultCountry must be an ISO 3166-1 alpha-2 code such as US')
    .default('US')
    .describe('The country of phone numbers written without a country code.'),
});

export type MetaConfig = z.output<typeof MetaConfigSchema>;
