import type { Command } from 'commander';
import { withStoreOptions } from './options.js';
import { withStore } from './source-commands.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('Manage admin API keys');
  withStoreOptions(keys.command('create'))
    .description('Create an admin API key and print it (it is shown only once)')
    .option('--name <name>', 'what the key is for', 'cli')
    .action(async (opts) => {
      const { key, apiKey } = await withStore(opts, (store) => store.apiKeys.create(opts.name));
      console.log(key);
      console.error(`(key ${apiKey.id} "${apiKey.name}"; store it now, it cannot be shown again)`);
    });
  withStoreOptions(keys.command('list'))
    .description('List admin API keys (names and prefixes)')
    .action(async (opts) => {
      console.table(await withStore(opts, (store) => store.apiKeys.list()));
    });
  withStoreOptions(keys.command('revoke <id>'))
    .description('Revoke an admin API key')
    .action(async (id, opts) => {
      const revoked = await withStore(opts, (store) => store.apiKeys.revoke(id));
      console.log(revoked ? `revoked ${id}` : `no active key ${id}`);
    });
}
