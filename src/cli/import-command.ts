import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  IMPORT_FORMATS,
  type ImportFormat,
  ImportMappingSchema,
  parseOrThrow,
  UserError,
} from '../core/index.js';
import { type ImportProgress, importFile } from '../ingest/index.js';
import { withStoreOptions } from './options.js';
import { withStore } from './source-commands.js';

export function registerImportCommand(program: Command): void {
  withStoreOptions(program.command('import <file>'))
    .description('Import a CSV, TSV, NDJSON or Parquet file (optionally gzipped) into a source')
    .requiredOption('--source <source>', 'source id or name')
    .option('--mapping <file>', 'JSON mapping of columns to identifiers and attributes (or event fields)')
    .option('--format <format>', `one of ${IMPORT_FORMATS.join(', ')} (default: from the file name)`)
    .action(async (file: string, opts) => {
      const mapping = opts.mapping ? await readMapping(opts.mapping) : undefined;
      if (opts.format && !(IMPORT_FORMATS as readonly string[]).includes(opts.format)) {
        throw new UserError('unknown_format', `--format must be one of ${IMPORT_FORMATS.join(', ')}`);
      }
      const started = Date.now();
      const report = await withStore(opts, async (store) =>
        importFile(store, {
          source: await store.sources.find(opts.source),
          path: file,
          format: opts.format as ImportFormat | undefined,
          mapping,
          onProgress: process.stderr.isTTY ? (p) => showProgress(p, started) : undefined,
        }),
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
      const seconds = (Date.now() - started) / 1000;
      console.log(
        report.alreadyImported
          ? `${file} was already imported into this source (import ${report.id}); nothing stored again`
          : `import ${report.id}: ${report.rowsRead} rows read, ${report.rowsStored} stored, ${report.rowsRejected} rejected in ${seconds.toFixed(1)} s`,
      );
      if (report.rowsRejected > 0 && !report.alreadyImported) {
        console.log(
          `rejects: sluice sources rejects, or GET /api/sources/${report.sourceId}/rejects?importId=${report.id}`,
        );
      }
    });
}

async function readMapping(path: string) {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new UserError('invalid_mapping', `cannot read the mapping ${path}: ${(err as Error).message}`);
  }
  return parseOrThrow(ImportMappingSchema, json, 'mapping', ['mapping']);
}

function showProgress(p: ImportProgress, started: number): void {
  const rate = p.rowsRead / Math.max(0.001, (Date.now() - started) / 1000);
  process.stderr.write(
    `\r${p.rowsRead.toLocaleString('en-US')} rows read, ${p.rowsStored.toLocaleString('en-US')} stored, ` +
      `${p.rowsRejected.toLocaleString('en-US')} rejected (${Math.round(rate).toLocaleString('en-US')} rows/s)   `,
  );
}
