import type { Command } from 'commander';
import { startApp } from '../app.js';
import { CONFIG_ENV_VARS } from '../config.js';
import { configFrom, withStoreOptions } from './options.js';

export function registerServeCommand(program: Command): void {
  withStoreOptions(program.command('serve'))
    .description('Start the Sluice server (tracking API, management API)')
    .option('--port <port>', 'port to listen on [SLUICE_PORT, default 4100]')
    .option('--host <host>', 'address to listen on [SLUICE_HOST, default 127.0.0.1]')
    .option('--no-demo', 'do not load the demo workspace into an empty store [SLUICE_DEMO=false]')
    .addHelpText('after', `\nEnvironment variables: ${CONFIG_ENV_VARS.join(', ')}`)
    .action(async (opts) => {
      const config = configFrom(opts, {
        port: opts.port,
        host: opts.host,
        ...(opts.demo === false ? { demo: false } : {}),
      });
      const app = await startApp(config);
      console.log(
        `Sluice ${app.store.engine === 'duckdb' ? `on DuckDB in ${config.dataDir}` : 'on PostgreSQL'}, listening on ${app.url}`,
      );
      const stop = async (signal: string) => {
        console.log(`${signal}: shutting down`);
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
