import { z } from 'zod';
import { secret } from '../../secret-fields.js';

/** The datacenter a Mailchimp API key ends in (`…-us21` → `us21`). */
export function datacenterOf(apiKey: string): string | undefined {
  return /-([a-z]+\d+)$/.exec(apiKey)?.[1];
}

/** A Mailchimp audience (list) destination. */
export const MailchimpConfigSchema = z
  .object({
    apiKey: secret('A Mailchimp Marketing API key; its suffix (e.g. -us21) names the datacenter.'),
    listId: z
      .string()
      .regex(/^[a-z0-9]+$/i, 'listId must be the audience id Mailchimp shows under Audience settings')
      .describe('The audience people are subscribed to and unsubscribed from.'),
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'baseUrl must be an http:// or https:// URL' })
      .optional()
      .describe('The API host; by default https://{dc}.api.mailchimp.com from the key.'),
  })
  .superRefine((config, ctx) => {
    if (config.baseUrl === undefined && datacenterOf(config.apiKey) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiKey'],
        message: 'apiKey must end in its datacenter (such as -us21), or baseUrl must be set',
      });
    }
  });

export type MailchimpConfig = z.output<typeof MailchimpConfigSchema>;

/** The API root for a config: `https://us21.api.mailchimp.com/3.0`. */
export function mailchimpApiRoot(config: MailchimpConfig): string {
  const base = config.baseUrl ?? `https://${datacenterOf(config.apiKey)}.api.mailchimp.com`;
  return `${base.replace(/\/+$/, '')}/3.0`;
}
