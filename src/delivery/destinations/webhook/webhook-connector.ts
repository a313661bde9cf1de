import { randomUUID } from 'node:crypto';
import { type DeliveryBatch, DeliveryFailure, defineConnector } from '../../connector.js';
import { sendHttp } from '../../http-delivery.js';
import { type WebhookConfig, WebhookConfigSchema } from './webhook-config.js';
import { audienceMessage, type WebhookTestMessage } from './webhook-message.js';
import { signWebhook, webhookKey } from './webhook-signature.js';

/**
 * Sends each batch as one signed POST (Standard Webhooks): `webhook-id` is the batch key, so a
 * retry carries the same id and the receiver can drop what it already processed.
 */
export const webhookConnector = defineConnector({
  id: 'webhook',
  label: 'Webhook',
  configSchema: WebhookConfigSchema,
  capabilities: (config) => ({
    kind: 'records',
    fields: 'any',
    defaultFields: ['profile_id', 'email'],
    supportsRemovals: true,
    maxBatchSize: config.batchSize,
    ...(config.maxRequestsPerSecond === undefined ? {} : { rateLimitPerSecond: config.maxRequestsPerSecond }),
  }),
  async test({ config, signal }) {
    const message: WebhookTestMessage = { type: 'sluice.test', sentAt: new Date().toISOString() };
    await post(config, `sluice_test_${randomUUID()}`, JSON.stringify(message), signal);
  },
  async deliver({ config, signal }, batch: DeliveryBatch) {
    const message = await audienceMessage(batch);
    const status = await post(config, batch.key, JSON.stringify(message), signal);
    return {
      accepted: message.records.length,
      rejected: 0,
      rejections: [],
      detail: { webhookId: batch.key, status },
    };
  },
});

/** POSTs a signed body; a non-2xx answer throws the `DeliveryFailure` that `sendHttp` chose. */
async function post(config: WebhookConfig, id: string, body: string, signal: AbortSignal): Promise<number> {
  const key = webhookKey(config.secret);
  // The schema already refused such a secret; this guards configs that skipped it.
  if (!key) throw new DeliveryFailure('refused', 'secret is not "whsec_" followed by base64');
  // Signed per attempt: receivers refuse timestamps more than five minutes off.
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await sendHttp(config.url, {
    method: 'POST',
    headers: {
      ...config.headers,
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(key, id, timestamp, body),
    },
    body,
    signal,
    timeoutMs: config.timeoutMs,
  });
  // Read the answer so the connection goes back to the pool.
  await response.arrayBuffer().catch(() => undefined);
  return response.status;
}
