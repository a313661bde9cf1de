import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { OrchestrationService } from '../activation/index.js';
import { CreateOrchestrationSchema, parseOrThrow, UserError } from '../core/index.js';
import { Scheduler } from '../scheduler/index.js';
import { jsonFrom, withDelivery } from './destination-commands.js';
import { withStoreOptions } from './options.js';

const log = { info: (m: string) => console.error(m), error: (m: string) => console.error(m) };

/**
 * Opens the orchestrations of the store for one command. Schedules are written for the server's
 * scheduler to run; `run` enqueues into the outbox, which the server's delivery workers send.
 */
function withOrchestrations<T>(opts: Record<string, unknown>, fn: (o: OrchestrationService) => Promise<T>) {
  return withDelivery(opts, (delivery, store) =>
    fn(new OrchestrationService(store, delivery, new Scheduler(store, { log }), { log })),
  );
}

/** The query from the argument, or from `--file`. */
async function queryFrom(query: string | undefined, opts: { file?: string }): Promise<string> {
  if (opts.file !== undefined) return readFile(opts.file, 'utf8');
  if (query === undefined)
    throw new UserError('missing_query', 'give the query as an argument or with --file <path>');
  return query;
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

export function registerOrchestrationCommands(program: Command): void {
  const orchestrations = program
    .command('orchestrations')
    .description(
      'Orchestrations: read-only SQL over the workspace views, sent on a schedule to a file destination',
    );
  withStoreOptions(orchestrations.command('list'))
    .description('List orchestrations with their schedule and last run')
    .action(async (opts) => {
      const list = await withOrchestrations(opts, (o) => o.list());
      console.table(
        list.map((x) => ({
          id: x.id,
          name: x.name,
          destination: x.destinationId,
          enabled: x.enabled,
          skipUnchanged: x.skipUnchanged,
          nextRunAt: x.nextRunAt?.toISOString() ?? '',
          lastRun: x.lastRun ? `${x.lastRun.status}${x.lastRun.skipped ? ' (skipped)' : ''}` : '',
        })),
      );
    });
  withStoreOptions(orchestrations.command('create'))
    .description(
      'Create an orchestration from JSON: { "name", "query", "destinationId", "schedule", "skipUnchanged"?, "enabled"? }',
    )
    .option('--file <path>', 'the orchestration as a JSON file')
    .option('--json <json>', 'the orchestration as JSON text')
    .action(async (opts) => {
      const input = parseOrThrow(CreateOrchestrationSchema, await jsonFrom(opts), 'orchestration');
      print(await withOrchestrations(opts, (o) => o.create(input)));
    });
  withStoreOptions(orchestrations.command('preview [query]'))
    .description(
      'Print a query’s columns and first rows (the views: profiles, identifiers, events, memberships)',
    )
    .option('--file <path>', 'read the query from a file')
    .option('--limit <n>', 'rows to print', '20')
    .action(async (query: string | undefined, opts) => {
      const text = await queryFrom(query, opts);
      print(await withOrchestrations(opts, (o) => o.preview(text, Number(opts.limit))));
    });
  withStoreOptions(orchestrations.command('run <id>'))
    .description('Run an orchestration now: its rows go into the outbox (exit code 1 when the run failed)')
    .action(async (id: string, opts) => {
      const run = await withOrchestrations(opts, (o) => o.runNow(id));
      print(run);
      if (run.status === 'failed') process.exitCode = 1;
    });
  withStoreOptions(orchestrations.command('delete <id>'))
    .description('Delete an orchestration and its schedule')
    .action(async (id: string, opts) => {
      await withOrchestrations(opts, (o) => o.delete(id));
      console.log(`deleted ${id}`);
    });
}
