export { type ApiRoute, openApiDocument, route } from './api-routes.js';
export type { ServerDeps } from './deps.js';
export { errorResponse } from './error-response.js';
export { createHttpServer } from './http-server.js';
export { apiRoutes, createManagementApi } from './management-api.js';
