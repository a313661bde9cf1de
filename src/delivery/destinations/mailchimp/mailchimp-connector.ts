import {
  type DeliveryBatch,
  DeliveryFailure,
  type DeliveryResult,
  defineConnector,
} from '../../connector.js';
import { sendHttp } from '../../http-delivery.js';
import { type MailchimpConfig, MailchimpConfigSchema, mailchimpApiRoot } from './mailchimp-config.js';
import { type MailchimpMember, membersOf } from './mailchimp-members.js';

/** Mailchimp takes at most 500 members in one batch subscribe-or-unsubscribe call. */
export const MAILCHIMP_MAX_MEMBERS = 500;

interface BatchAnswer {
  errors?: { email_address?: string; error?: string; error_code?: string }[];
}

/**
 * A Mailchimp audience through the Marketing API's batch call `POST /3.0/lists/{list_id}` with
 * `update_existing`. Adds subscribe; removes set the status `unsubscribed`: one call per 500
 * people (archiving takes one call per person), and Mailchimp keeps the record, so it goes on
 * suppressing the address.
 */
export const mailchimpConnector = defineConnector({
  id: 'mailchimp',
  label: 'Mailchimp',
  configSchema: MailchimpConfigSchema,
  capabilities: () => ({
    kind: 'records',
    fields: [
      { name: 'email', description: 'Email address', identifier: true },
      { name: 'first_name', description: 'First name (merge field FNAME)' },
      { name: 'last_name', description: 'Last name (merge field LNAME)' },
    ],
    defaultFields: ['email', 'first_name', 'last_name'],
    supportsRemovals: true,
    maxBatchSize: MAILCHIMP_MAX_MEMBERS,
  }),
  async test({ config, signal }) {
    try {
      const response = await sendHttp(`${mailchimpApiRoot(config)}/lists/${config.listId}?fields=id,name`, {
        method: 'GET',
        headers: { authorization: basicAuth(config) },
        signal,
      });
      await response.arrayBuffer();
    } catch (err) {
      if (!(err instanceof DeliveryFailure)) throw err;
      throw new DeliveryFailure(
        err.disposition,
        `Mailchimp did not let Sluice read audience ${config.listId} (check the API key and the audience id): ${err.message}`,
        err.details,
      );
    }
  },
  async deliver({ config, signal }, batch: DeliveryBatch): Promise<DeliveryResult> {
    const { members, rejections } = await membersOf(batch);
    const local = rejections.length;
    // The outbox keeps batches within the limit; a larger one still goes, in calls of 500.
    for (let i = 0; i < members.length; i += MAILCHIMP_MAX_MEMBERS) {
      const chunk = members.slice(i, i + MAILCHIMP_MAX_MEMBERS);
      const answer = await post(config, chunk, signal);
      rejections.push(...memberErrors(answer, chunk));
    }
    const refused = rejections.length - local;
    return {
      accepted: members.length - refused,
      rejected: local + refused,
      rejections,
      detail: { listId: config.listId, calls: Math.ceil(members.length / MAILCHIMP_MAX_MEMBERS) },
    };
  },
});

async function post(
  config: MailchimpConfig,
  chunk: readonly MailchimpMember[],
  signal: AbortSignal,
): Promise<BatchAnswer> {
  const response = await sendHttp(`${mailchimpApiRoot(config)}/lists/${config.listId}`, {
    method: 'POST',
    headers: { authorization: basicAuth(config), 'content-type': 'application/json' },
    body: JSON.stringify({ members: chunk.map(({ row: _, ...member }) => member), update_existing: true }),
    signal,
  });
  return (await response.json()) as BatchAnswer;
}

/** Mailchimp's per-member `errors`, as rejections of the rows those addresses came from. */
function memberErrors(answer: BatchAnswer, chunk: readonly MailchimpMember[]): DeliveryResult['rejections'] {
  const rowOf = new Map(chunk.map((m) => [m.email_address, m.row]));
  return (answer.errors ?? []).map((error) => {
    const row = rowOf.get((error.email_address ?? '').trim().toLowerCase());
    const reason = [error.error_code, error.error].filter(Boolean).join(': ') || 'refused by Mailchimp';
    return row === undefined ? { reason } : { row, reason };
  });
}

// Mailchimp takes any user name with the API key as the password.
function basicAuth(config: MailchimpConfig): string {
  return `Basic ${Buffer.from(`sluice:${config.apiKey}`).toString('base64')}`;
}
