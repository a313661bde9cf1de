import type { Command } from 'commander';
import { type Config, loadConfig } from '../config.js';

/** Adds the flags every command that opens the store shares (each is also an environment variable). */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory of the embedded DuckDB store [SLUICE_DATA_DIR]')
    .option('--database-url <url>', 'postgres://... to use PostgreSQL instead [SLUICE_DATABASE_URL]');
}

/** The config from the environment with the command's flags on top. */
export function configFrom(opts: Record<string, unknown>, extra: Record<string, unknown> = {}): Config {
  return loadConfig(process.env, { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, ...extra });
}
