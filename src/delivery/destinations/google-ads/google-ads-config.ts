import { z } from 'zod';
import { secret } from '../../secret-fields.js';

const customerId = (field: string) =>
  z.string().regex(/^\d{10}$/, `${field} must be the 10-digit Google Ads customer id without dashes`);
const consent = (field: string) =>
  z.enum(['GRANTED', 'DENIED'], { error: `${field} must be GRANTED or DENIED` });

/**
 * A Google Ads Customer Match destination. OAuth fields sit at the top level so that `secret()`
 * marks them (only top-level fields are encrypted at rest).
 */
export const GoogleAdsConfigSchema = z.object({
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'baseUrl must be an http:// or https:// URL' })
    .default('https://googleads.googleapis.com')
    .describe('The Google Ads API host; change it only to point at a test server.'),
  apiVersion: z
    .string()
    .regex(/^v\d+$/, 'apiVersion must be a Google Ads API version such as v21')
    .default('v21'),
  customerId: customerId('customerId').describe('The account that owns the Customer Match list.'),
  loginCustomerId: customerId('loginCustomerId')
    .optional()
    .describe('The manager account Sluice signs in through, if any.'),
  userListId: z.string().regex(/^\d+$/, 'userListId must be the numeric id of a Customer Match user list'),
  developerToken: secret('The Google Ads API developer token.'),
  clientId: z.string().min(1, 'clientId is the OAuth client id'),
  clientSecret: secret('The OAuth client secret.'),
  refreshToken: secret('An OAuth refresh token with the https://www.googleapis.com/auth/adwords scope.'),
  tokenUrl: z
    .url({ protocol: /^https?$/, error: 'tokenUrl must be an http:// or https:// URL' })
    .default('https://oauth2.googleapis.com/token'),
  adUserData: consent('adUserData').describe(
    'Whether the people consented to their data being sent to Google for ads.',
  ),
  adPersonalization: consent('adPersonalization').describe(
    'Whether the people consented to personalized ads.',
  ),
  defaultCountry: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'defaultCountry must be an ISO 3166-1 alpha-2 code such as US')
    .default('US')
    .describe('The country of phone numbers written without a country code.'),
});

export type GoogleAdsConfig = z.output<typeof GoogleAdsConfigSchema>;
