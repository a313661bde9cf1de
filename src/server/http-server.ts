import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { ServerDeps } from './deps.js';
import { createManagementApi } from './management-api.js';
import { createTrackingHandler } from './tracking-handler.js';

/**
 * One HTTP server: `/v1/...` goes straight to the tracking handler (the hot path, plain node:http);
 * everything else to the Hono management app.
 */
export function createHttpServer(deps: ServerDeps): Server {
  const tracking = createTrackingHandler(deps.store, deps.writer, deps.config.limits);
  const management = getRequestListener(createManagementApi(deps).fetch);
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/v1/')) {
      const end = url.indexOf('?');
      void tracking(req, res, url.slice(4, end === -1 ? undefined : end).replace(/\/$/, ''));
    } else {
      void management(req, res);
    }
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
