import { z } from 'zod';
import { CreateAudienceSyncSchema } from '../core/index.js';
import { inBody, route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Audience syncs: segments kept in step with destinations. */
export function syncRoutes({ syncs }: ServerDeps) {
  return [
    route({
      method: 'get',
      path: '/syncs',
      summary:
        'List audience syncs with how far each has sent the membership ledger, and the members each holds back per reason',
      tag: 'activations',
      handler: async () => ({ syncs: await syncs.list() }),
    }),
    route({
      method: 'post',
      path: '/syncs',
      summary:
        'Keep a destination in step with a segment: every member first, then each entry and exit as the ledger records it; members without consent for the destination’s purpose are held back, fields a data-usage policy forbids are refused',
      tag: 'activations',
      body: CreateAudienceSyncSchema,
      status: 201,
      handler: async ({ body }) => inBody(() => syncs.create(body)),
    }),
    route({
      method: 'get',
      path: '/syncs/:id',
      summary:
        'An audience sync: its segment, destination, field mapping, ledger cursor, last error, last step, and the members it holds back per reason',
      tag: 'activations',
      handler: async ({ params }) => syncs.get(params.id!),
    }),
    route({
      method: 'delete',
      path: '/syncs/:id',
      summary: 'Stop an audience sync (the destination keeps what it has)',
      tag: 'activations',
      status: 204,
      query: z.object({}),
      handler: async ({ params }) => {
        await syncs.delete(params.id!);
        return null;
      },
    }),
  ];
}
