import { z } from 'zod';
import { secret } from '../../secret-fields.js';
import { SECRET_BYTES, webhookKey } from './webhook-signature.js';

// RFC 9110 token characters: anything else makes fetch throw before a request is made.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Headers the connector sets itself: a static value would break signing or the JSON body.
const RESERVED_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature', 'content-type']);

const extraHeaders = z
  .record(z.string(), z.string())
  .superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      if (!HEADER_NAME.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `headers: "${name}" is not a valid header name`,
        });
      } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `headers: ${name} is set by Sluice and cannot be overridden`,
        });
      } else if (/[\r\n\0]/.test(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `headers: the value of ${name} contains a line break`,
        });
      }
    }
  })
  .describe('Static headers sent with every request, e.g. an API gateway key.');

/** A webhook destination: where to POST, and the Standard Webhooks secret the receiver verifies with. */
export const WebhookConfigSchema = z.object({
  url: z
    .url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' })
    .describe('The endpoint that receives the POST requests.'),
  secret: secret('Standard Webhooks signing secret: whsec_ followed by base64.').refine(
    (value) => webhookKey(value) !== undefined,
    `secret must be "whsec_" followed by the base64 encoding of ${SECRET_BYTES.min} to ${SECRET_BYTES.max} random bytes`,
  ),
  headers: extraHeaders.optional(),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(100)
    .describe('Records per request (at most 10,000).'),
  maxRequestsPerSecond: z
    .number()
    .positive()
    .max(10_000)
    .optional()
    .describe(
      'At most this many requests per second (a receiver behind a rate limit); unset: as fast as it answers.',
    ),
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(300_000)
    .default(30_000)
    .describe('How long to wait for an answer before the attempt counts as failed and is retried.'),
});

export type WebhookConfig = z.output<typeof WebhookConfigSchema>;
