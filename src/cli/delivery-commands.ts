import type { Command } from 'commander';
import { DELIVERY_STATUSES, type DeliveryStatus, NotFoundError, UserError } from '../core/index.js';
import { replayDeadOf, replayDelivery } from '../delivery/index.js';
import { withDelivery } from './destination-commands.js';
import { withStoreOptions } from './options.js';

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

function statusOf(value: string | undefined): DeliveryStatus | undefined {
  if (value === undefined) return undefined;
  if ((DELIVERY_STATUSES as readonly string[]).includes(value)) return value as DeliveryStatus;
  throw new UserError('invalid_input', `--status must be one of ${DELIVERY_STATUSES.join(', ')}`);
}

export function registerDeliveryCommands(program: Command): void {
  const deliveries = program
    .command('deliveries')
    .description('The outbox: deliveries with their receipts, and replay of dead letters');
  withStoreOptions(deliveries.command('list'))
    .description('Deliveries newest first, with receipts')
    .option('--destination <id>', 'only this destination')
    .option('--status <status>', `only this status (${DELIVERY_STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .action(async (opts) => {
      const list = await withDelivery(opts, (_d, store) =>
        store.deliveries.list({
          destinationId: opts.destination,
          status: statusOf(opts.status),
          limit: Number(opts.limit),
        }),
      );
      console.table(
        list.map((d) => ({
          id: d.id,
          status: d.status,
          rows: d.rowCount,
          accepted: d.receipt?.accepted ?? '',
          rejected: d.receipt?.rejected ?? '',
          attempts: d.attempts,
          error: d.lastError?.slice(0, 80) ?? '',
        })),
      );
    });
  withStoreOptions(deliveries.command('show <id>'))
    .description('A delivery with its receipt and every attempt')
    .action(async (id: string, opts) =>
      print(
        await withDelivery(opts, async (_d, store) => {
          const delivery = await store.deliveries.get(id);
          if (!delivery) throw new NotFoundError('delivery', id);
          return { ...delivery, attemptLog: await store.deliveries.attempts(id) };
        }),
      ),
    );
  withStoreOptions(deliveries.command('replay [id]'))
    .description('Send a dead-lettered delivery again (or, with --destination, all of its dead letters)')
    .option('--destination <id>', 'replay every dead-lettered delivery of this destination')
    .action(async (id: string | undefined, opts) => {
      if (!id && !opts.destination)
        throw new UserError('invalid_input', 'give a delivery id or --destination <id>');
      const result = await withDelivery(opts, async (_d, store) =>
        id
          ? { replayed: [(await replayDelivery(store, id, new Date())).id] }
          : { replayed: await replayDeadOf(store, opts.destination, new Date()) },
      );
      print(result);
    });
}
