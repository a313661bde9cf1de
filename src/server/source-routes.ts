import { z } from 'zod';
import { CreateSourceSchema } from '../core/index.js';
import { route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

/** Sources, their write keys, statistics and rejects. */
export function sourceRoutes({ store }: ServerDeps) {
  return [
    route({
      method: 'post',
      path: '/sources',
      summary: 'Create a source; the answer carries its write key',
      tag: 'sources',
      body: CreateSourceSchema,
      status: 201,
      handler: ({ body }) => store.sources.create(body),
    }),
    route({
      method: 'get',
      path: '/sources',
      summary: 'List sources',
      tag: 'sources',
      handler: async () => ({ sources: await store.sources.list() }),
    }),
    route({
      method: 'get',
      path: '/sources/:id',
      summary: 'Get a source',
      tag: 'sources',
      handler: ({ params }) => store.sources.get(params.id!),
    }),
    route({
      method: 'get',
      path: '/sources/:id/stats',
      summary: 'Counts of events, profile records, rejects and imports, and when data last arrived',
      tag: 'sources',
      handler: async ({ params }) => {
        const source = await store.sources.get(params.id!);
        return store.sourceStats(source.id);
      },
    }),
    route({
      method: 'get',
      path: '/sources/:id/rejects',
      summary: 'What was refused, newest first: row number or batch index, field path and reason',
      tag: 'sources',
      query: z.object({
        limit: limit(1000, 100),
        importId: z.string().optional(),
        before: z.coerce.number().int().optional(),
      }),
      handler: async ({ params, query }) => {
        const source = await store.sources.get(params.id!);
        const rejects = await store.rejects.list(source.id, {
          limit: query.limit,
          importId: query.importId,
          beforeSeq: query.before,
        });
        return { rejects, next: rejects.length === query.limit ? rejects[rejects.length - 1]?.seq : null };
      },
    }),
  ];
}
