import { UserError } from '../core/index.js';
import type { NewDelivery, Store } from '../store/index.js';
import type { DeliveryRecord } from './connector.js';
import type { ConnectorRegistry } from './connector-registry.js';
import type { DestinationService } from './destination-service.js';
import { toValueLines } from './value-lines.js';

/** What an activation asks to send to one destination in one run. */
export interface EnqueueRequest {
  destinationId: string;
  activation: { id: string; name: string };
  runId: string;
  /** The group's name (treatment group, sub-audience), for file names. */
  group?: string | undefined;
  /** Tells apart several sends of one run to one destination (e.g. one per group); part of the idempotency key. */
  part?: string | undefined;
  runAt: Date;
  operation: 'add' | 'remove';
  fields: readonly string[];
  rows: AsyncIterable<readonly DeliveryRecord[]> | readonly DeliveryRecord[];
}

export interface Enqueued {
  deliveryIds: string[];
  rows: number;
  /** False when this subject had been enqueued before (nothing was written again). */
  created: boolean;
}

const STAGE_CHUNK = 10_000;

/**
 * The outbox's front door: splits what an activation sends into batches the destination's
 * connector accepts and writes them durably. Each delivery's id is its idempotency key,
 * `<run>:<destination>:<operation>:<part>:<batch>` (each URI-encoded; the part empty when there is none), so enqueueing the same subject twice (a run
 * retried after a crash) writes nothing the second time.
 */
export class Outbox {
  constructor(
    private readonly store: Store,
    private readonly connectors: ConnectorRegistry,
    private readonly destinations: DestinationService,
    private readonly onEnqueued: (destinationId: string) => void = () => {},
    private readonly now: () => Date = () => new Date(),
  ) {}

  async enqueue(request: EnqueueRequest): Promise<Enqueued> {
    const destination = await this.store.destinations.get(request.destinationId);
    const capabilities = this.connectors
      .get(destination.connector)
      .capabilities(this.destinations.resolve(destination).config);
    if (request.operation === 'remove' && !capabilities.supportsRemovals) {
      throw new UserError(
        'removals_unsupported',
        `destination ${destination.name} (${destination.connector}) cannot remove people from its audience`,
      );
    }
    // Every slot is present (an empty part when there is none) and encoded, so no two subjects share a prefix.
    const prefix = `${[request.runId, destination.id, request.operation, request.part ?? ''].map(encodeURIComponent).join(':')}:`;
    const existing = await this.store.deliveries.idsOf(request.runId, destination.id, prefix);
    if (existing.length > 0) return { deliveryIds: existing, rows: 0, created: false };
    await this.store.deliveries.dropStaged(prefix);

    const sizes: number[] = [];
    let inBatch = 0;
    let pending: DeliveryRecord[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const batch = sizes.length === 0 ? 0 : sizes.length - 1;
      await this.store.deliveries.stage(
        `${prefix}${batch}`,
        inBatch - pending.length,
        pending.length,
        toValueLines(request.fields, pending),
      );
      pending = [];
    };
    for await (const chunk of chunks(request.rows)) {
      for (const row of chunk) {
        if (sizes.length === 0 || inBatch === capabilities.maxBatchSize) {
          await flush();
          if (sizes.length > 0) sizes[sizes.length - 1] = inBatch;
          sizes.push(0);
          inBatch = 0;
        }
        pending.push(row);
        inBatch += 1;
        if (pending.length === STAGE_CHUNK) await flush();
      }
    }
    await flush();
    if (sizes.length > 0) sizes[sizes.length - 1] = inBatch;
    // A file destination gets its file even when nobody qualified (a header-only file says "none today").
    if (sizes.length === 0 && capabilities.kind === 'file' && request.operation === 'add') sizes.push(0);

    const deliveries: NewDelivery[] = sizes.map((rowCount, index) => ({
      id: `${prefix}${index}`,
      destinationId: destination.id,
      activation: request.activation,
      runId: request.runId,
      group: request.group,
      runAt: request.runAt,
      operation: request.operation,
      index,
      count: sizes.length,
      fields: [...request.fields],
      rowCount,
    }));
    await this.store.deliveries.create(deliveries, this.now());
    if (deliveries.length > 0) this.onEnqueued(destination.id);
    return {
      deliveryIds: deliveries.map((d) => d.id),
      rows: sizes.reduce((a, b) => a + b, 0),
      created: true,
    };
  }
}

async function* chunks(
  rows: AsyncIterable<readonly DeliveryRecord[]> | readonly DeliveryRecord[],
): AsyncIterable<readonly DeliveryRecord[]> {
  if (Symbol.asyncIterator in rows) yield* rows;
  else for (let i = 0; i < rows.length; i += STAGE_CHUNK) yield rows.slice(i, i + STAGE_CHUNK);
}
