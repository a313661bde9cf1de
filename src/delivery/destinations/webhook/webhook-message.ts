import type { DeliveryBatch, DeliveryRecord } from '../../connector.js';

/**
 * The JSON body of one webhook delivery. A receiver applies `records` to the audience named by
 * `activation` (and `group`, when set): `audience.add` puts the people in, `audience.remove`
 * takes them out. The `webhook-id` header is the same on every retry of a message, so a receiver
 * that remembers the ids it processed counts each batch once.
 *
 * @example
 * { "type": "audience.add", "activation": { "id": "cmp_1", "name": "Spring Sale" },
 *   "runId": "run_1", "runAt": "2026-03-14T09:30:00.000Z", "group": "Treatment A",
 *   "batch": { "index": 0, "count": 3, "size": 2 }, "fields": ["profile_id", "email"],
 *   "records": [{ "profile_id": "p1", "email": "a@example.com" }, ...] }
 */
export interface WebhookAudienceMessage {
  type: 'audience.add' | 'audience.remove';
  activation: { id: string; name: string };
  runId: string;
  /** When the run started (ISO 8601): the same on every batch of the run. */
  runAt: string;
  /** The treatment group or sub-audience, or null when the activation has none. */
  group: string | null;
  /** This message's place in the run: `index` from 0 of `count` messages for this type; `size` records. */
  batch: { index: number; count: number; size: number };
  fields: string[];
  records: DeliveryRecord[];
}

/** The message `test` sends: a receiver should answer 2xx and change nothing. */
export interface WebhookTestMessage {
  type: 'sluice.test';
  /** When the test was sent (ISO 8601). */
  sentAt: string;
}

/** Reads a batch's rows into the message a receiver gets. */
export async function audienceMessage(batch: DeliveryBatch): Promise<WebhookAudienceMessage> {
  const records: DeliveryRecord[] = [];
  for await (const chunk of batch.rows()) records.push(...chunk);
  return {
    type: batch.operation === 'add' ? 'audience.add' : 'audience.remove',
    activation: { id: batch.activation.id, name: batch.activation.name },
    runId: batch.runId,
    runAt: batch.runAt.toISOString(),
    group: batch.group ?? null,
    batch: { index: batch.index, count: batch.count, size: records.length },
    fields: [...batch.fields],
    records,
  };
}
