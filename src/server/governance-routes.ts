import { z } from 'zod';
import { PolicyService } from '../activation/index.js';
import {
  CreatePolicySchema,
  LabelledAttributeSchema,
  parseOrThrow,
  SetDataLabelsSchema,
  UpdatePolicySchema,
} from '../core/index.js';
import { inBody, route } from './api-routes.js';
import type { ServerDeps } from './deps.js';

/** The attribute named in the path, checked like a field of the request. */
const attributeOf = (params: Record<string, string>) =>
  parseOrThrow(LabelledAttributeSchema, params.attribute, 'attribute', ['params', 'attribute']);

/** Data-usage labels on attributes, and the policies that keep labelled data from marketing actions. */
export function governanceRoutes({ store }: ServerDeps) {
  const policies = new PolicyService(store);
  return [
    route({
      method: 'get',
      path: '/labels',
      summary:
        'Every labelled attribute (`email`, `trait:ltv`, `identifier:email`) with its data-usage labels',
      tag: 'governance',
      handler: async () => ({ attributes: await store.labels.list() }),
    }),
    route({
      method: 'get',
      path: '/labels/:attribute',
      summary: 'The data-usage labels of one attribute',
      tag: 'governance',
      handler: async ({ params }) => store.labels.get(attributeOf(params)),
    }),
    route({
      method: 'put',
      path: '/labels/:attribute',
      summary:
        'Set the data-usage labels of an attribute, computed trait (`trait:<name>`) or identifier namespace (`identifier:<namespace>`); an empty list removes them',
      tag: 'governance',
      body: SetDataLabelsSchema,
      handler: async ({ params, body }) => {
        const attribute = attributeOf(params);
        await store.labels.set(attribute, body.labels, new Date());
        return { attribute, labels: body.labels };
      },
    }),
    route({
      method: 'get',
      path: '/policies',
      summary: 'Data-usage policies: which labels may not go to destinations with which marketing actions',
      tag: 'governance',
      handler: async () => ({ policies: await policies.list() }),
    }),
    route({
      method: 'post',
      path: '/policies',
      summary:
        'Create a data-usage policy; activations that would send a field it forbids are refused, and running syncs stop',
      tag: 'governance',
      body: CreatePolicySchema,
      status: 201,
      handler: async ({ body }) => inBody(() => policies.create(body)),
    }),
    route({
      method: 'get',
      path: '/policies/:id',
      summary: 'A data-usage policy',
      tag: 'governance',
      handler: async ({ params }) => policies.get(params.id!),
    }),
    route({
      method: 'patch',
      path: '/policies/:id',
      summary: 'Change a data-usage policy (what is left out stays); `"enabled": false` suspends it',
      tag: 'governance',
      body: UpdatePolicySchema,
      handler: async ({ params, body }) => inBody(() => policies.update(params.id!, body)),
    }),
    route({
      method: 'delete',
      path: '/policies/:id',
      summary: 'Delete a data-usage policy',
      tag: 'governance',
      status: 204,
      query: z.object({}),
      handler: async ({ params }) => {
        await policies.delete(params.id!);
        return null;
      },
    }),
  ];
}
