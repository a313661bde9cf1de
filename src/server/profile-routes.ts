import { z } from 'zod';
import { ConsentSuppression } from '../activation/index.js';
import { IdentifierRefSchema, NotFoundError, UserError } from '../core/index.js';
import { customerProfile, explainIdentity } from '../identity/index.js';
import { route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Customer 360: profiles found by identifier, read whole, and their identity explained. */
export function profileRoutes({ store, identity, segments }: ServerDeps) {
  const consent = new ConsentSuppression(store);
  return [
    route({
      method: 'get',
      path: '/profiles',
      summary: 'Find profiles by identifier (`?identifier=email:ann@example.com`), or page through all',
      tag: 'profiles',
      query: z.object({
        identifier: IdentifierRefSchema.optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        after: z.string().optional().describe('the last profile id of the previous page'),
      }),
      handler: async ({ query }) => {
        if (query.identifier === undefined) {
          const profiles = await store.identity.listProfiles(query.limit, query.after);
          return {
            profiles,
            next: profiles.length === query.limit ? profiles[profiles.length - 1]?.id : null,
          };
        }
        const colon = query.identifier.indexOf(':');
        const namespace = query.identifier.slice(0, colon);
        const normalized = identity.normalizer.normalize(namespace, query.identifier.slice(colon + 1));
        if (!normalized.ok) {
          throw new UserError(
            'invalid_identifier',
            `${query.identifier} is not a usable ${namespace} (${normalized.reason})`,
            [
              {
                code: 'invalid_identifier',
                path: ['query', 'identifier'],
                message: `${normalized.reason} ${namespace}`,
              },
            ],
          );
        }
        const found = await store.identity.findIdentifier(namespace, normalized.value);
        if (!found) return { profiles: [], next: null };
        const identifiers = await store.identity.identifiersOf(found.profileId);
        return { profiles: [{ id: found.profileId, identifiers: identifiers.length }], next: null };
      },
    }),
    route({
      method: 'get',
      path: '/profiles/:id',
      summary:
        'A profile whole: attributes with their sources, identifiers, computed traits, consent per purpose, segments (since when), recent events',
      tag: 'profiles',
      query: z.object({ events: z.coerce.number().int().min(0).max(1000).default(20) }),
      handler: async ({ params, query }) => {
        const profile = await customerProfile(store, identity.identityConfig, params.id!, query.events);
        if (!profile) throw new NotFoundError('profile', params.id!);
        const names = new Map(segments.list().map((s) => [s.id, s.name]));
        const [memberships, consentOf] = await Promise.all([
          store.memberships.ofProfile(profile.id),
          consent.ofProfile(profile.id),
        ]);
        return {
          ...profile,
          consent: consentOf,
          segments: memberships.map((m) => ({ ...m, name: names.get(m.segmentId) })),
        };
      },
    }),
    route({
      method: 'get',
      path: '/profiles/:id/identity',
      summary:
        "Why a profile's identifiers are together: what linked each, every merge and every refused merge",
      tag: 'profiles',
      handler: async ({ params }) => {
        const explanation = await explainIdentity(store, params.id!);
        if (!explanation) throw new NotFoundError('profile', params.id!);
        return explanation;
      },
    }),
  ];
}
