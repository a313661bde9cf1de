import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { z } from 'zod';
import { IMPORT_FORMATS, ImportMappingSchema, parseOrThrow, UserError } from '../core/index.js';
import { importFile } from '../ingest/index.js';
import { route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** File imports over HTTP: the body is the file itself. */
export function importRoutes({ store, config, identity }: ServerDeps) {
  return [
    route({
      method: 'post',
      path: '/sources/:id/imports',
      summary:
        'Import a file (the raw body; gzip allowed). `format` = csv|tsv|ndjson|parquet (default from `fileName`); ' +
        '`mapping` = the JSON mapping, URL-encoded (default inferred from the header)',
      tag: 'imports',
      body: 'raw',
      status: 201,
      query: z.object({
        format: z.enum(IMPORT_FORMATS).optional(),
        fileName: z.string().max(255).optional(),
        mapping: z.string().optional(),
      }),
      handler: async ({ params, query, c }) => {
        const source = await store.sources.get(params.id!);
        const mapping = query.mapping ? parseMapping(query.mapping) : undefined;
        if (!c.req.raw.body) throw new UserError('empty_body', 'the request body must be the file to import');
        // The file is spooled to disk: hashing, re-reading and Parquet all need random access.
        const dir = join(config.dataDir, 'uploads');
        await mkdir(dir, { recursive: true });
        const path = join(dir, `${randomUUID()}.upload`);
        try {
          await pipeline(Readable.fromWeb(c.req.raw.body as WebReadableStream), createWriteStream(path));
          const result = await importFile(store, {
            source,
            path,
            fileName: query.fileName ?? `upload.${query.format ?? 'csv'}`,
            format: query.format,
            mapping,
          });
          identity.notify();
          return result;
        } finally {
          await rm(path, { force: true });
        }
      },
    }),
    route({
      method: 'get',
      path: '/sources/:id/imports',
      summary: 'Past imports of a source, newest first, with rows read, stored and rejected',
      tag: 'imports',
      handler: async ({ params }) => {
        const source = await store.sources.get(params.id!);
        return { imports: await store.imports.list(source.id) };
      },
    }),
  ];
}

function parseMapping(text: string) {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError('invalid_mapping', 'the mapping query parameter must be JSON', [
      { code: 'invalid_json', path: ['query', 'mapping'], message: 'not valid JSON' },
    ]);
  }
  return parseOrThrow(ImportMappingSchema, json, 'mapping', ['query', 'mapping']);
}
