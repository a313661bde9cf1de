import { z } from 'zod';
import { DELIVERY_STATUSES, NotFoundError } from '../core/index.js';
import { replayDeadOf, replayDelivery } from '../delivery/index.js';
import type { StoredDelivery } from '../store/index.js';
import { route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** A delivery as the API shows it: what it is about, where it stands, and its receipt. */
function deliveryView(d: StoredDelivery) {
  return {
    id: d.id,
    destinationId: d.destinationId,
    activation: d.activation,
    runId: d.runId,
    group: d.group ?? null,
    operation: d.operation,
    batch: { index: d.index, count: d.count },
    rows: d.rowCount,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    createdAt: d.createdAt,
    lastAttemptAt: d.lastAttemptAt ?? null,
    finishedAt: d.finishedAt ?? null,
    lastError: d.lastError ?? null,
    lastStatus: d.lastStatus ?? null,
    receipt: d.receipt
      ? {
          sent: d.rowCount,
          accepted: d.receipt.accepted,
          rejected: d.receipt.rejected,
          rejections: d.receipt.rejections,
          detail: d.receipt.detail,
          attemptMs: d.receipt.durationMs,
          totalMs: d.finishedAt ? d.finishedAt.getTime() - d.createdAt.getTime() : null,
        }
      : null,
  };
}

/** The outbox: deliveries with their receipts, attempts, and replay of dead letters. */
export function deliveryRoutes({ store, delivery }: ServerDeps) {
  return [
    route({
      method: 'get',
      path: '/deliveries',
      summary: 'Deliveries newest first, with receipts (rows sent, accepted, rejected with reasons, timings)',
      tag: 'deliveries',
      query: z.object({
        destination: z.string().optional(),
        status: z.enum(DELIVERY_STATUSES).optional(),
        run: z.string().optional(),
        before: z.coerce
          .number()
          .int()
          .min(0)
          .optional()
          .describe('the seq of the last delivery of the previous page'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      handler: async ({ query }) => {
        const list = await store.deliveries.list({
          destinationId: query.destination,
          status: query.status,
          runId: query.run,
          before: query.before,
          limit: query.limit,
        });
        return {
          deliveries: list.map(deliveryView),
          next: list.length === query.limit ? list[list.length - 1]!.seq : null,
        };
      },
    }),
    route({
      method: 'get',
      path: '/deliveries/:id',
      summary: 'A delivery with its receipt and every attempt (time, duration, outcome, status, error)',
      tag: 'deliveries',
      handler: async ({ params }) => {
        const d = await store.deliveries.get(params.id!);
        if (!d) throw new NotFoundError('delivery', params.id!);
        return { ...deliveryView(d), attemptLog: await store.deliveries.attempts(d.id) };
      },
    }),
    route({
      method: 'post',
      path: '/deliveries/:id/replay',
      summary: 'Send a dead-lettered delivery again (same idempotency key, fresh retry window)',
      tag: 'deliveries',
      status: 202,
      handler: async ({ params }) => {
        const d = await replayDelivery(store, params.id!, new Date());
        delivery.engine?.wake(d.destinationId);
        return deliveryView(d);
      },
    }),
    route({
      method: 'post',
      path: '/deliveries/replay',
      summary: 'Send every dead-lettered delivery of a destination again',
      tag: 'deliveries',
      status: 202,
      body: z.object({ destinationId: z.string().min(1) }),
      handler: async ({ body }) => {
        const replayed = await replayDeadOf(store, body.destinationId, new Date());
        delivery.engine?.wake(body.destinationId);
        return { replayed };
      },
    }),
  ];
}
