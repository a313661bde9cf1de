import { z } from 'zod';
import { ACTIVATION_KINDS, listActivations } from '../activation/index.js';
import {
  CampaignDefinitionSchema,
  ContactPolicySchema,
  FieldMappingSchema,
  MEMBER_OUTCOMES,
} from '../core/index.js';
import { inBody, route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Campaigns: drafts, launch with every problem reported at once, lifecycle, runs and what each run did. */
export function campaignRoutes({ campaigns }: ServerDeps) {
  const action = (verb: 'launch' | 'pause' | 'resume' | 'cancel', summary: string) =>
    route({
      method: 'post',
      path: `/campaigns/:id/${verb}`,
      summary,
      tag: 'activations',
      query: z.object({}),
      handler: async ({ params }) => campaigns[verb](params.id!),
    });
  return [
    route({
      method: 'get',
      path: '/campaigns',
      summary: 'List campaigns with their status',
      tag: 'activations',
      handler: async () => ({ campaigns: await campaigns.list() }),
    }),
    route({
      method: 'post',
      path: '/campaigns',
      summary: 'Save a campaign as a draft (launching it checks everything)',
      tag: 'activations',
      body: CampaignDefinitionSchema,
      status: 201,
      handler: async ({ body }) => inBody(() => campaigns.create(body)),
    }),
    route({
      method: 'get',
      path: '/campaigns/:id',
      summary: 'A campaign: audience, sub-audiences, groups, destinations, schedule and status',
      tag: 'activations',
      handler: async ({ params }) => campaigns.get(params.id!),
    }),
    route({
      method: 'put',
      path: '/campaigns/:id',
      summary: 'Replace a campaign’s definition (profiles keep their groups)',
      tag: 'activations',
      body: CampaignDefinitionSchema,
      handler: async ({ params, body }) => inBody(() => campaigns.update(params.id!, body)),
    }),
    route({
      method: 'delete',
      path: '/campaigns/:id',
      summary: 'Delete a campaign and its run records',
      tag: 'activations',
      status: 204,
      query: z.object({}),
      handler: async ({ params }) => {
        await campaigns.delete(params.id!);
        return null;
      },
    }),
    route({
      method: 'get',
      path: '/campaigns/:id/problems',
      summary: 'Every problem that would stop the campaign from launching, each naming its field',
      tag: 'activations',
      handler: async ({ params }) => ({ issues: await campaigns.problems(await campaigns.get(params.id!)) }),
    }),
    action('launch', 'Check everything and schedule the campaign (400 lists every problem)'),
    action('pause', 'Pause a scheduled campaign'),
    action('resume', 'Resume a paused campaign (a recurrence that missed ticks runs once)'),
    action('cancel', 'Cancel a campaign: no further run starts'),
    route({
      method: 'get',
      path: '/campaigns/:id/runs',
      summary: 'A campaign’s runs, newest first, with their counts',
      tag: 'activations',
      handler: async ({ params }) => ({ runs: await campaigns.runs(params.id!) }),
    }),
    route({
      method: 'get',
      path: '/campaigns/:id/runs/:runId',
      summary: 'A run: counts per sub-audience, group and destination, and how its deliveries went',
      tag: 'activations',
      handler: async ({ params }) => campaigns.run(params.id!, params.runId!),
    }),
    route({
      method: 'get',
      path: '/campaigns/:id/runs/:runId/members',
      summary:
        'What a run did with each newly qualified profile (sent, control, suppressed, held, unmatched)',
      tag: 'activations',
      query: z.object({
        outcome: z.enum(MEMBER_OUTCOMES).optional(),
        after: z.string().optional().describe('the previous page’s `next`'),
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      }),
      handler: async ({ params, query }) => {
        await campaigns.run(params.id!, params.runId!);
        const members = await campaigns.members(params.runId!, query);
        return { members, next: members.length === query.limit ? members[members.length - 1]!.cursor : null };
      },
    }),
    route({
      method: 'get',
      path: '/destinations/:id/default-attributes',
      summary: 'The attributes campaigns send to a destination unless they choose others',
      tag: 'activations',
      handler: async ({ params }) => ({ fields: await campaigns.defaultFields(params.id!) }),
    }),
    route({
      method: 'put',
      path: '/destinations/:id/default-attributes',
      summary:
        'Set a destination’s default attributes: destination field → profile_id, attribute, trait:<name> or identifier:<namespace>',
      tag: 'activations',
      body: z.object({ fields: FieldMappingSchema }),
      handler: async ({ params, body }) =>
        inBody(async () => ({ fields: await campaigns.setDefaultFields(params.id!, body.fields) })),
    }),
  ];
}

/** The workspace's contact policy: frequency caps and quiet hours. */
export function contactPolicyRoutes({ contactPolicy }: ServerDeps) {
  return [
    route({
      method: 'get',
      path: '/contact-policy',
      summary: 'The contact policy: frequency caps per channel and quiet hours in the profile’s time zone',
      tag: 'activations',
      handler: async () => contactPolicy.get(),
    }),
    route({
      method: 'put',
      path: '/contact-policy',
      summary: 'Replace the contact policy',
      tag: 'activations',
      body: ContactPolicySchema,
      handler: async ({ body }) => inBody(() => contactPolicy.set(body)),
    }),
  ];
}

/** Every activation in one list. */
export function activationRoutes({ store }: ServerDeps) {
  return [
    route({
      method: 'get',
      path: '/activations',
      summary:
        'Campaigns, audience syncs and orchestrations in one list: status, last run, next run and counts',
      tag: 'activations',
      query: z.object({ kind: z.enum(ACTIVATION_KINDS).optional(), status: z.string().optional() }),
      handler: async ({ query }) => ({
        activations: (await listActivations(store)).filter(
          (a) => (!query.kind || a.kind === query.kind) && (!query.status || a.status === query.status),
        ),
      }),
    }),
  ];
}
