import { z } from 'zod';
import { SegmentDefinitionSchema, SegmentPreviewSchema } from '../core/index.js';
import { inBody, route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Segments: definitions, evaluation, members, the membership ledger, and insights. */
export function segmentRoutes({ store, segments }: ServerDeps) {
  return [
    route({
      method: 'get',
      path: '/segments',
      summary: 'List segments with their mode (streaming or batch, and why), sentence and member count',
      tag: 'segments',
      handler: async () => {
        const sizes = await segments.sizes();
        return { segments: segments.list().map((s) => ({ ...s, members: sizes.get(s.id) ?? 0 })) };
      },
    }),
    route({
      method: 'post',
      path: '/segments',
      summary:
        'Create a segment; its members are computed before this answers (streaming ones are then kept current as events arrive)',
      tag: 'segments',
      body: SegmentDefinitionSchema,
      status: 201,
      handler: async ({ body }) => {
        const segment = await inBody(() => segments.create(body));
        return { ...segment, members: await store.memberships.count(segment.id) };
      },
    }),
    route({
      method: 'post',
      path: '/segments/preview',
      summary:
        'Count an unsaved definition, sample its members, total a value over them and measure overlaps with saved segments',
      tag: 'segments',
      body: SegmentPreviewSchema,
      handler: async ({ body }) => inBody(() => segments.preview(body)),
    }),
    route({
      method: 'post',
      path: '/segments/evaluate',
      summary: 'Evaluate batch segments now (all of them, or those listed) and record every entry and exit',
      tag: 'segments',
      body: z.object({ segmentIds: z.array(z.string().min(1)).max(1000).optional() }),
      handler: async ({ body }) =>
        inBody(() => segments.evaluate(body.segmentIds ? { segmentIds: body.segmentIds } : {})),
    }),
    route({
      method: 'get',
      path: '/segments/:id',
      summary: 'A segment: its definition, sentence, mode, member count and size over time',
      tag: 'segments',
      handler: async ({ params }) => {
        const segment = segments.get(params.id!);
        const [members, sizeByDay] = await Promise.all([
          store.memberships.count(segment.id),
          store.memberships.sizeByDay(segment.id),
        ]);
        return { ...segment, members, sizeByDay };
      },
    }),
    route({
      method: 'put',
      path: '/segments/:id',
      summary: 'Replace a segment’s definition; members are recomputed before this answers',
      tag: 'segments',
      body: SegmentDefinitionSchema,
      handler: async ({ params, body }) => inBody(() => segments.update(params.id!, body)),
    }),
    route({
      method: 'delete',
      path: '/segments/:id',
      summary: 'Delete a segment (refused while another segment refers to it); its ledger is kept',
      tag: 'segments',
      status: 204,
      query: z.object({}),
      handler: async ({ params }) => {
        await segments.delete(params.id!);
        return null;
      },
    }),
    route({
      method: 'get',
      path: '/segments/:id/members',
      summary: 'The current members, in profile id order, with since when each is a member',
      tag: 'segments',
      query: z.object({
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
        after: z.string().optional().describe('the last profile id of the previous page'),
      }),
      handler: async ({ params, query }) => {
        const segment = segments.get(params.id!);
        const members = await store.memberships.members(segment.id, query.limit, query.after);
        return {
          members,
          next: members.length === query.limit ? members[members.length - 1]!.profileId : null,
        };
      },
    }),
    route({
      method: 'get',
      path: '/segments/:id/changes',
      summary:
        'The membership ledger after `since` (a change seq), oldest first: each entry and exit with its time, mode and reason',
      tag: 'segments',
      query: z.object({
        since: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      }),
      handler: async ({ params, query }) => {
        const segment = segments.get(params.id!);
        const changes = await store.memberships.changes(segment.id, query.since, query.limit);
        return { changes, next: changes.length > 0 ? changes[changes.length - 1]!.seq : query.since };
      },
    }),
  ];
}
