import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CreateDestinationSchema, parseOrThrow, UpdateDestinationSchema, UserError } from '../core/index.js';
import { CONNECTORS } from '../delivery/connectors.js';
import { type Delivery, openDelivery } from '../delivery/index.js';
import type { Store } from '../store/index.js';
import { configFrom, withStoreOptions } from './options.js';
import { withStore } from './source-commands.js';

/** Opens delivery (without workers: the server sends) over the store for one command. */
export function withDelivery<T>(
  opts: Record<string, unknown>,
  fn: (delivery: Delivery, store: Store) => Promise<T>,
) {
  const config = configFrom(opts);
  return withStore(opts, async (store) =>
    fn(
      await openDelivery(store, {
        dataDir: config.dataDir,
        secretKey: config.secretKey,
        connectors: CONNECTORS,
        log: { info: (m) => console.error(m), error: (m) => console.error(m) },
        workers: false,
      }),
      store,
    ),
  );
}

/** A JSON document from `--file` or `--json`. */
export async function jsonFrom(opts: { file?: string; json?: string }): Promise<unknown> {
  const text = opts.file !== undefined ? await readFile(opts.file, 'utf8') : opts.json;
  if (text === undefined)
    throw new UserError('missing_definition', 'give the JSON with --file <path> or --json <json>');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError('invalid_json', `not valid JSON: ${(err as Error).message}`);
  }
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

export function registerDestinationCommands(program: Command): void {
  const destinations = program
    .command('destinations')
    .description('Destinations: where activations send audiences (credentials are stored encrypted)');
  withStoreOptions(destinations.command('connectors'))
    .description('The connectors destinations can be made with, and their config schemas')
    .action(async (opts) => print(await withDelivery(opts, async (d) => d.connectors.list())));
  withStoreOptions(destinations.command('list'))
    .description('List destinations with their deliveries per status')
    .action(async (opts) => {
      const list = await withDelivery(opts, async (d, store) =>
        Promise.all(
          (await d.destinations.list()).map(async (x) => ({
            id: x.id,
            name: x.name,
            connector: x.connector,
            enabled: x.enabled,
            ...(await store.deliveries.statusCounts(x.id)),
          })),
        ),
      );
      console.table(list);
    });
  withStoreOptions(destinations.command('show <id>'))
    .description('A destination: config (never its secrets), settings, capabilities')
    .action(async (id: string, opts) => print(await withDelivery(opts, (d) => d.destinations.get(id))));
  withStoreOptions(destinations.command('create'))
    .description('Create a destination from JSON: { "name", "connector", "config", "settings"? }')
    .option('--file <path>', 'the destination as a JSON file')
    .option('--json <json>', 'the destination as JSON text')
    .action(async (opts) => {
      const input = parseOrThrow(CreateDestinationSchema, await jsonFrom(opts), 'destination');
      print(await withDelivery(opts, (d) => d.destinations.create(input)));
    });
  withStoreOptions(destinations.command('update <id>'))
    .description('Change a destination from JSON (secret fields left out keep their values)')
    .option('--file <path>', 'the change as a JSON file')
    .option('--json <json>', 'the change as JSON text')
    .action(async (id: string, opts) => {
      const input = parseOrThrow(UpdateDestinationSchema, await jsonFrom(opts), 'destination');
      print(await withDelivery(opts, (d) => d.destinations.update(id, input)));
    });
  withStoreOptions(destinations.command('delete <id>'))
    .description('Delete a destination with nothing left to send')
    .action(async (id: string, opts) => {
      await withDelivery(opts, (d) => d.destinations.delete(id));
      console.log(`deleted ${id}`);
    });
  withStoreOptions(destinations.command('test <id>'))
    .description('Check credentials and reachability (exit code 1 when the check fails)')
    .action(async (id: string, opts) => {
      const result = await withDelivery(opts, (d) => d.destinations.test(id, d.tempDir));
      print(result);
      if (!result.ok) process.exitCode = 1;
    });
}
