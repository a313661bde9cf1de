import type { Command } from 'commander';
import { z } from 'zod';
import { parseOrThrow } from '../core/index.js';
import { DEFAULT_DEMO, loadDemoWorkspace } from '../demo/index.js';
import { withStoreOptions } from './options.js';
import { withStore } from './source-commands.js';

const DemoFlags = z.object({
  seed: z.coerce.number().int().min(0).default(DEFAULT_DEMO.seed),
  customers: z.coerce.number().int().min(1).max(5_000_000).default(DEFAULT_DEMO.customers),
  days: z.coerce.number().int().min(1).max(3650).default(DEFAULT_DEMO.days),
  now: z.coerce.date().optional(),
});

export function registerDemoCommand(program: Command): void {
  withStoreOptions(program.command('demo'))
    .description('Generate the demo workspace (a believable outdoor-gear brand) into the store')
    .option('--seed <n>', 'seed: the same seed gives the same data', String(DEFAULT_DEMO.seed))
    .option('--customers <n>', 'number of customers', String(DEFAULT_DEMO.customers))
    .option('--days <n>', 'days of history', String(DEFAULT_DEMO.days))
    .option('--now <iso-date>', 'anchor of all times (default: now); fix it for byte-identical data')
    .action(async (opts) => {
      const flags = parseOrThrow(DemoFlags, opts, 'demo options');
      const summary = await withStore(opts, (store) =>
        loadDemoWorkspace(
          store,
          {
            seed: flags.seed,
            customers: flags.customers,
            days: flags.days,
            ...(flags.now ? { now: flags.now } : {}),
          },
          (m) => {
            if (process.stderr.isTTY) process.stderr.write(`\r${m}   `);
          },
        ),
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
      console.log(JSON.stringify(summary, null, 2));
    });
}
