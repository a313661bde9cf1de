import { NotFoundError, UserError } from '../core/index.js';
import type { Store, StoredDelivery } from '../store/index.js';

/**
 * Sends a dead-lettered delivery again with a fresh retry window, under the same idempotency key
 * (a destination that did get it after all counts it once). Refused for a delivery that is not
 * dead, or whose destination is disabled (it would only wait).
 */
export async function replayDelivery(store: Store, id: string, now: Date): Promise<StoredDelivery> {
  const delivery = await store.deliveries.get(id);
  if (!delivery) throw new NotFoundError('delivery', id);
  if (delivery.status !== 'dead') {
    throw new UserError(
      'conflict',
      `delivery ${id} is ${delivery.status}: only dead-lettered deliveries can be replayed`,
    );
  }
  await assertEnabled(store, delivery.destinationId);
  if (!(await store.deliveries.replay(id, now))) {
    throw new UserError('conflict', `delivery ${id} changed while it was being replayed: look again`);
  }
  return (await store.deliveries.get(id))!;
}

/** Replays every dead-lettered delivery of a destination; returns how many. */
export async function replayDeadOf(store: Store, destinationId: string, now: Date): Promise<number> {
  await assertEnabled(store, destinationId);
  return store.deliveries.replayDead(destinationId, now);
}

async function assertEnabled(store: Store, destinationId: string): Promise<void> {
  const destination = await store.destinations.get(destinationId);
  if (!destination.enabled) {
    throw new UserError(
      'conflict',
      `destination ${destination.name} is disabled${destination.disabledReason ? ` (${destination.disabledReason})` : ''}: enable it first (PUT /api/destinations/${destination.id} with "enabled": true)`,
    );
  }
}
