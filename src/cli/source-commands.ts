import type { Command } from 'commander';
import { openConfiguredStore } from '../app.js';
import { CreateSourceSchema, parseOrThrow } from '../core/index.js';
import type { Store } from '../store/index.js';
import { configFrom, withStoreOptions } from './options.js';

/** Opens the store for one CLI command and closes it afterwards. */
export async function withStore<T>(
  opts: Record<string, unknown>,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openConfiguredStore(configFrom(opts));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerSourceCommands(program: Command): void {
  const sources = program
    .command('sources')
    .description('Manage sources (where events and profiles come from)');
  withStoreOptions(sources.command('create <name>'))
    .description('Create a source and print its write key')
    .requiredOption('--kind <kind>', 'events or profiles')
    .option('--description <text>')
    .action(async (name, opts) => {
      const input = parseOrThrow(
        CreateSourceSchema,
        { name, kind: opts.kind, description: opts.description },
        'source',
      );
      const source = await withStore(opts, (store) => store.sources.create(input));
      console.log(JSON.stringify(source, null, 2));
    });
  withStoreOptions(sources.command('list'))
    .description('List sources')
    .action(async (opts) => {
      const list = await withStore(opts, (store) => store.sources.list());
      console.table(list.map((s) => ({ id: s.id, name: s.name, kind: s.kind, writeKey: s.writeKey })));
    });
  withStoreOptions(sources.command('stats <source>'))
    .description('Counts, last received and rejects of a source (id or name)')
    .action(async (idOrName, opts) => {
      const stats = await withStore(opts, async (store) =>
        store.sourceStats((await store.sources.find(idOrName)).id),
      );
      console.log(JSON.stringify(stats, null, 2));
    });
}
