import { WebhookConfigSchema, webhookConnector } from '../../delivery/destinations/webhook/index.js';
import type { DeliveryRecord } from '../../delivery/index.js';
import type { ConformanceTarget } from '../conformance.js';
import { newWebhookSecret, startWebhookReceiver } from '../webhook-receiver.js';

/** The webhook connector against a real receiver that verifies signatures and dedupes by webhook-id. */
export const webhookTarget: ConformanceTarget = {
  connector: webhookConnector,
  secrets: ['secret'],
  async start() {
    const receiver = await startWebhookReceiver();
    const config = (secret: string) => WebhookConfigSchema.parse({ url: receiver.url, secret });
    return {
      config: config(receiver.secret),
      // Well formed, but not the receiver's: every request fails verification (401).
      badConfig: config(newWebhookSecret()),
      rows: people,
      keyOf: (row) => String(row.profile_id),
      present: async () => receiver.audience('profile_id'),
      received: async () => receiver.recordsReceived(),
      close: () => receiver.close(),
    };
  },
};

/** `n` people with `profile_id`, `email` and `first_name`, numbered from `first` (same number, same person). */
function people(n: number, first = 0): DeliveryRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    profile_id: `prof_${String(first + i).padStart(6, '0')}`,
    email: `person${first + i}@example.com`,
    first_name: `Person ${first + i}`,
  }));
}
