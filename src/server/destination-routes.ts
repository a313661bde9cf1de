import { z } from 'zod';
import { CreateDestinationSchema, UpdateDestinationSchema } from '../core/index.js';
import type { DestinationView } from '../delivery/index.js';
import { inBody, route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Destinations and the connectors they are made with. */
export function destinationRoutes({ store, delivery }: ServerDeps) {
  const withHealth = async (d: DestinationView) => ({
    ...d,
    deliveries: await store.deliveries.statusCounts(d.id),
    breaker: delivery.engine?.breaker(d.id),
  });
  return [
    route({
      method: 'get',
      path: '/connectors',
      summary:
        'The connectors destinations can be made with: id, label, config schema (secret fields are writeOnly)',
      tag: 'destinations',
      handler: async () => ({ connectors: delivery.connectors.list() }),
    }),
    route({
      method: 'get',
      path: '/destinations',
      summary:
        'List destinations with their capabilities, deliveries per status and circuit breaker (never their secrets)',
      tag: 'destinations',
      handler: async () => ({
        destinations: await Promise.all((await delivery.destinations.list()).map(withHealth)),
      }),
    }),
    route({
      method: 'post',
      path: '/destinations',
      summary:
        'Create a destination; its config is validated by its connector and its credentials encrypted at rest',
      tag: 'destinations',
      body: CreateDestinationSchema,
      status: 201,
      handler: async ({ body }) => withHealth(await inBody(() => delivery.destinations.create(body))),
    }),
    route({
      method: 'get',
      path: '/destinations/:id',
      summary: 'A destination with its deliveries per status and circuit breaker',
      tag: 'destinations',
      handler: async ({ params }) => withHealth(await delivery.destinations.get(params.id!)),
    }),
    route({
      method: 'put',
      path: '/destinations/:id',
      summary:
        'Change a destination (secret fields left out keep their values); `"enabled": true` resumes delivery after a 410',
      tag: 'destinations',
      body: UpdateDestinationSchema,
      handler: async ({ params, body }) => {
        const updated = await inBody(() => delivery.destinations.update(params.id!, body));
        delivery.engine?.wake(updated.id);
        return withHealth(updated);
      },
    }),
    route({
      method: 'delete',
      path: '/destinations/:id',
      summary: 'Delete a destination with nothing left to send (its delivery history is kept)',
      tag: 'destinations',
      status: 204,
      query: z.object({}),
      handler: async ({ params }) => {
        await delivery.destinations.delete(params.id!);
        return null;
      },
    }),
    route({
      method: 'post',
      path: '/destinations/:id/test',
      summary: 'Check credentials and reachability; `ok: false` says what failed',
      tag: 'destinations',
      handler: async ({ params }) => delivery.destinations.test(params.id!, delivery.tempDir),
    }),
  ];
}
