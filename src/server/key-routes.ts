import { z } from 'zod';
import { NotFoundError } from '../core/index.js';
import { route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Admin API keys. */
export function keyRoutes({ store }: ServerDeps) {
  return [
    route({
      method: 'post',
      path: '/keys',
      summary: 'Create an admin API key; the key is shown in this answer only',
      tag: 'keys',
      body: z.object({ name: z.string().trim().min(1).max(100) }),
      status: 201,
      handler: ({ body }) => store.apiKeys.create(body.name),
    }),
    route({
      method: 'get',
      path: '/keys',
      summary: 'List admin API keys (names and prefixes, never the keys)',
      tag: 'keys',
      handler: async () => ({ keys: await store.apiKeys.list() }),
    }),
    route({
      method: 'delete',
      path: '/keys/:id',
      summary: 'Revoke an admin API key',
      tag: 'keys',
      status: 204,
      handler: async ({ params }) => {
        if (!(await store.apiKeys.revoke(params.id!))) throw new NotFoundError('key', params.id!);
        return null;
      },
    }),
  ];
}
