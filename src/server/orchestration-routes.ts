import { z } from 'zod';
import { CreateOrchestrationSchema, PreviewQuerySchema, UpdateOrchestrationSchema } from '../core/index.js';
import { inBody, route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** Orchestrations: read-only SQL over the workspace views, sent on a schedule to a file destination. */
export function orchestrationRoutes({ orchestrations }: ServerDeps) {
  return [
    route({
      method: 'get',
      path: '/orchestrations',
      summary: 'List orchestrations with their output columns, next run and last run',
      tag: 'activations',
      handler: async () => ({ orchestrations: await orchestrations.list() }),
    }),
    route({
      method: 'get',
      path: '/orchestrations/views',
      summary: 'The workspace views an orchestration query may read, with their columns',
      tag: 'activations',
      handler: async () => ({ views: await orchestrations.views() }),
    }),
    route({
      method: 'post',
      path: '/orchestrations/preview',
      summary:
        'Run a query over the workspace views and return its columns and first rows (anything but one read-only SELECT is refused)',
      tag: 'activations',
      body: PreviewQuerySchema,
      handler: async ({ body }) => inBody(() => orchestrations.preview(body.query, body.limit)),
    }),
    route({
      method: 'post',
      path: '/orchestrations',
      summary:
        'Create an orchestration: a read-only query sent on a schedule to a file destination (its format is the destination’s)',
      tag: 'activations',
      body: CreateOrchestrationSchema,
      status: 201,
      handler: async ({ body }) => inBody(() => orchestrations.create(body)),
    }),
    route({
      method: 'get',
      path: '/orchestrations/:id',
      summary: 'An orchestration with its output columns, next run and last run',
      tag: 'activations',
      handler: async ({ params }) => orchestrations.get(params.id!),
    }),
    route({
      method: 'put',
      path: '/orchestrations/:id',
      summary:
        'Change an orchestration (only the fields given); a new schedule or `enabled` starts the schedule over',
      tag: 'activations',
      body: UpdateOrchestrationSchema,
      handler: async ({ params, body }) => inBody(() => orchestrations.update(params.id!, body)),
    }),
    route({
      method: 'delete',
      path: '/orchestrations/:id',
      summary: 'Delete an orchestration and its schedule (what it enqueued is still delivered)',
      tag: 'activations',
      status: 204,
      query: z.object({}),
      handler: async ({ params }) => {
        await orchestrations.delete(params.id!);
        return null;
      },
    }),
    route({
      method: 'post',
      path: '/orchestrations/:id/run',
      summary:
        'Run an orchestration now; answers the run (status failed with the error when the query failed)',
      tag: 'activations',
      status: 201,
      handler: async ({ params }) => orchestrations.runNow(params.id!),
    }),
    route({
      method: 'get',
      path: '/orchestrations/:id/runs',
      summary:
        'An orchestration’s runs, latest first: status, rows, result hash, skipped, error, outbox run id',
      tag: 'activations',
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }),
      handler: async ({ params, query }) => {
        await orchestrations.get(params.id!);
        return { runs: await orchestrations.runs(params.id!, query.limit) };
      },
    }),
  ];
}
