import { z } from 'zod';
import { EVENT_TYPES } from '../core/index.js';
import { route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Reading back stored events. */
export function eventRoutes({ store }: ServerDeps) {
  return [
    route({
      method: 'get',
      path: '/events',
      summary: 'Stored events, newest first; page with `before` (the last `seq` seen)',
      tag: 'events',
      query: z.object({
        source: z.string().optional().describe('source id or name'),
        type: z.enum(EVENT_TYPES).optional(),
        userId: z.string().optional(),
        anonymousId: z.string().optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        before: z.coerce.number().int().optional(),
      }),
      handler: async ({ query }) => {
        const sourceId = query.source ? (await store.sources.find(query.source)).id : undefined;
        const events = await store.events.query({
          sourceId,
          type: query.type,
          userId: query.userId,
          anonymousId: query.anonymousId,
          beforeSeq: query.before,
          limit: query.limit,
        });
        return { events, next: events.length === query.limit ? events[events.length - 1]?.seq : null };
      },
    }),
  ];
}
