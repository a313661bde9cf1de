import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AuthError } from '../core/index.js';
import { type ApiRoute, openApiDocument, validateRequest } from './api-routes.js';
import { activationRoutes, campaignRoutes, contactPolicyRoutes } from './campaign-routes.js';
import { deliveryRoutes } from './delivery-routes.js';
import type { ServerDeps } from './deps.js';
import { destinationRoutes } from './destination-routes.js';
import { errorResponse } from './error-response.js';
import { eventRoutes } from './event-routes.js';
import { governanceRoutes } from './governance-routes.js';
import { identityRoutes } from './identity-routes.js';
import { importRoutes } from './import-routes.js';
import { keyRoutes } from './key-routes.js';
import { orchestrationRoutes } from './orchestration-routes.js';
import { profileRoutes } from './profile-routes.js';
import { segmentRoutes } from './segment-routes.js';
import { sourceRoutes } from './source-routes.js';
import { syncRoutes } from './sync-routes.js';

/** Every management route, in the order the OpenAPI document lists them. */
export function apiRoutes(deps: ServerDeps): ApiRoute[] {
  return [
    ...sourceRoutes(deps),
    ...importRoutes(deps),
    ...eventRoutes(deps),
    ...profileRoutes(deps),
    ...identityRoutes(deps),
    ...segmentRoutes(deps),
    ...destinationRoutes(deps),
    ...deliveryRoutes(deps),
    ...syncRoutes(deps),
    ...campaignRoutes(deps),
    ...contactPolicyRoutes(deps),
    ...activationRoutes(deps),
    ...orchestrationRoutes(deps),
    ...governanceRoutes(deps),
    ...keyRoutes(deps),
  ];
}

/** The management API under `/api` (every route needs an admin key) and `GET /health`. */
export function createManagementApi(deps: ServerDeps, routes: ApiRoute[] = apiRoutes(deps)): Hono {
  const app = new Hono();
  const openApi = openApiDocument(routes, deps.version);

  app.onError((err, c) => {
    const r = errorResponse(err, (msg, e) => console.error(`management API: ${msg}`, e));
    return c.json(r.body, r.status as ContentfulStatusCode, r.headers);
  });
  app.notFound((c) =>
    c.json({ success: false, code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404),
  );

  app.get('/health', (c) => c.json({ status: 'ok', engine: deps.store.engine, version: deps.version }));

  app.use('/api/*', async (c, next) => {
    await authenticateAdmin(deps, c.req.header('authorization'));
    await next();
  });
  app.get('/api/openapi.json', (c) => c.json(openApi));

  for (const r of routes) {
    app.on(r.method.toUpperCase(), `/api${r.path}`, async (c) => {
      const { query, body } = await validateRequest(r, c);
      const result = await r.handler({ params: c.req.param() as Record<string, string>, query, body, c });
      if (result instanceof Response) return result;
      if (r.status === 204) return c.body(null, 204);
      return c.json(result as object, (r.status ?? 200) as ContentfulStatusCode);
    });
  }
  return app;
}

async function authenticateAdmin(deps: ServerDeps, header: string | undefined): Promise<void> {
  const match = header?.match(/^(Bearer|Basic)\s+(.+)$/i);
  if (!match) throw new AuthError('an admin API key is required: Authorization: Bearer <key>');
  const [, scheme, credential] = match;
  const key =
    scheme!.toLowerCase() === 'basic'
      ? Buffer.from(credential!, 'base64').toString('utf8').split(':')[0]!
      : credential!;
  if (await deps.store.apiKeys.isValid(key)) return;
  if (await deps.store.sources.findByWriteKey(key)) {
    throw new AuthError('write keys can only send events to the tracking API (/v1/...)', 403);
  }
  throw new AuthError('unknown admin API key');
}
