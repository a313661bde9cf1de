import { z } from 'zod';
import { ComputedTraitSchema, IdentityConfigSchema } from '../core/index.js';
import { matchReviews } from '../identity/index.js';
import { route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Identity resolution settings, rebuilds, and computed trait definitions. */
export function identityRoutes({ store, identity }: ServerDeps) {
  return [
    route({
      method: 'get',
      path: '/identity',
      summary: 'The identity settings in force and the graph in numbers',
      tag: 'identity',
      handler: async () => ({ config: identity.identityConfig, stats: await store.identity.stats() }),
    }),
    route({
      method: 'put',
      path: '/identity/config',
      summary: 'Replace the identity settings (priority, limits, blocked values, survivorship) and rebuild',
      tag: 'identity',
      body: IdentityConfigSchema,
      handler: async ({ body }) => ({ config: body, rebuild: await identity.rebuild(body) }),
    }),
    route({
      method: 'post',
      path: '/identity/rebuild',
      summary: 'Recompute every profile from the stored events and records (profile ids are kept)',
      tag: 'identity',
      handler: async () => identity.rebuild(),
    }),
    route({
      method: 'post',
      path: '/identity/match',
      summary:
        'Run the probabilistic rule set over the profile records: matches merge (guardrails apply), near misses go to review',
      tag: 'identity',
      handler: async () => identity.match(),
    }),
    route({
      method: 'get',
      path: '/identity/reviews',
      summary: 'Record pairs just below the match threshold, strongest first, with the weight of each field',
      tag: 'identity',
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      handler: async ({ query }) => ({ reviews: await matchReviews(store, query.limit) }),
    }),
    route({
      method: 'get',
      path: '/traits',
      summary: 'List computed traits',
      tag: 'traits',
      handler: async () => ({ traits: await store.traits.list() }),
    }),
    route({
      method: 'post',
      path: '/traits',
      summary: 'Declare a computed trait; its values are computed for every profile before this answers',
      tag: 'traits',
      body: ComputedTraitSchema,
      status: 201,
      handler: async ({ body }) => {
        const trait = await store.traits.create(body);
        await identity.refreshTraits();
        return trait;
      },
    }),
    route({
      method: 'delete',
      path: '/traits/:name',
      summary: 'Delete a computed trait and its values',
      tag: 'traits',
      status: 204,
      query: z.object({}),
      handler: async ({ params }) => {
        await identity.deleteTrait(params.name!);
        return null;
      },
    }),
  ];
}
