import type { Command } from 'commander';
import { ComputedTraitSchema, IdentifierRefSchema, NotFoundError, parseOrThrow } from '../core/index.js';
import { customerProfile, IdentityService } from '../identity/index.js';
import type { Store } from '../store/index.js';
import { withStoreOptions } from './options.js';
import { withStore } from './source-commands.js';

/**
 * Opens the store and the identity graph for one command, first stitching anything not yet
 * stitched. Reading commands stitch only on DuckDB, whose file this process holds alone; on
 * PostgreSQL a running server is the graph's writer.
 */
function withIdentity<T>(
  opts: Record<string, unknown>,
  fn: (store: Store, identity: IdentityService) => Promise<T>,
  mode: 'read' | 'write' = 'write',
) {
  return withStore(opts, async (store) => {
    const identity = await IdentityService.open(store);
    try {
      if (mode === 'write' || store.engine === 'duckdb') await identity.catchUp();
      return await fn(store, identity);
    } finally {
      await identity.close();
    }
  });
}

export function registerIdentityCommands(program: Command): void {
  const identity = program
    .command('identity')
    .description('Identity resolution: the graph, its settings, rebuilds');
  withStoreOptions(identity.command('rebuild'))
    .description('Recompute every profile from the stored events and records (profile ids are kept)')
    .option('--config <json>', 'new identity settings as JSON (priority, limits, blocked, maxSharedBy, ...)')
    .action(async (opts) => {
      const summary = await withIdentity(opts, (_, service) =>
        service.rebuild(opts.config === undefined ? undefined : JSON.parse(opts.config)),
      );
      console.log(JSON.stringify(summary, null, 2));
    });
  withStoreOptions(identity.command('match'))
    .description(
      'Run the probabilistic rule set over the profile records (merges matches, lists near misses)',
    )
    .action(async (opts) => {
      const summary = await withIdentity(opts, (_, service) => service.match());
      console.log(JSON.stringify(summary, null, 2));
    });
  withStoreOptions(identity.command('status'))
    .description('The identity settings in force and the graph in numbers')
    .action(async (opts) => {
      const status = await withIdentity(
        opts,
        async (store, service) => ({ config: service.identityConfig, stats: await store.identity.stats() }),
        'read',
      );
      console.log(JSON.stringify(status, null, 2));
    });

  withStoreOptions(program.command('profile <identifier>'))
    .description('Show a customer: by identifier (email:ann@example.com) or by profile id')
    .option('--events <n>', 'how many recent events to show', '10')
    .action(async (identifier: string, opts) => {
      const profile = await withIdentity(
        opts,
        async (store, service) => {
          let id = identifier;
          // Profile ids have no colon; identifiers are namespace:value.
          if (identifier.includes(':')) {
            const ref = parseOrThrow(IdentifierRefSchema, identifier, 'identifier');
            const namespace = ref.slice(0, ref.indexOf(':'));
            const normalized = service.normalizer.normalize(namespace, ref.slice(ref.indexOf(':') + 1));
            const found = normalized.ok
              ? await store.identity.findIdentifier(namespace, normalized.value)
              : undefined;
            if (!found) throw new NotFoundError('identifier', identifier);
            id = found.profileId;
          }
          const p = await customerProfile(store, service.identityConfig, id, Number(opts.events));
          if (!p) throw new NotFoundError('profile', identifier);
          return p;
        },
        'read',
      );
      console.log(JSON.stringify(profile, null, 2));
    });

  const traits = program
    .command('traits')
    .description('Computed traits (aggregates over each profile’s events)');
  withStoreOptions(traits.command('create <name>'))
    .description('Declare a computed trait and compute it for every profile')
    .requiredOption(
      '--aggregate <kind>',
      'count, sum, average, min, max, first_time, last_time or most_frequent',
    )
    .option('--event <name>', 'only events of this name')
    .option('--property <path>', 'the event property to aggregate, e.g. revenue')
    .action(async (name, opts) => {
      const trait = parseOrThrow(
        ComputedTraitSchema,
        { name, aggregate: opts.aggregate, event: opts.event, property: opts.property },
        'computed trait',
      );
      const result = await withIdentity(opts, async (store, service) => {
        await store.traits.create(trait);
        return service.refreshTraits();
      });
      console.log(`Computed ${trait.name} for ${result.profiles} profiles`);
    });
  withStoreOptions(traits.command('list'))
    .description('List computed traits')
    .action(async (opts) => {
      console.log(JSON.stringify(await withStore(opts, (store) => store.traits.list()), null, 2));
    });
  withStoreOptions(traits.command('delete <name>'))
    .description('Delete a computed trait and its values')
    .action(async (name, opts) => {
      await withStore(opts, (store) => store.traits.delete(name));
      console.log(`Deleted ${name}`);
    });
}
