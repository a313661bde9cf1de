import type { Context } from 'hono';
import { z } from 'zod';
import { parseOrThrow, UserError } from '../core/index.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One management endpoint: its schemas are the single source of its validation and its OpenAPI
 * entry. `body: 'raw'` leaves the body to the handler (file uploads).
 */
export interface ApiRoute<Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: Method;
  /** Hono path under `/api`, e.g. `/sources/:id`. */
  path: string;
  summary: string;
  tag: string;
  query?: Q;
  body?: B | 'raw';
  /** Status of a successful answer (default 200). */
  status?: 200 | 201 | 202 | 204;
  handler: (input: {
    params: Record<string, string>;
    query: z.output<Q>;
    body: z.output<B>;
    c: Context;
  }) => Promise<unknown>;
}

/** Declares a route with its types inferred from the schemas. */
export function route<Q extends z.ZodType = z.ZodObject, B extends z.ZodType = z.ZodType>(
  r: ApiRoute<Q, B>,
): ApiRoute {
  return r as unknown as ApiRoute;
}

/** Validates a request's query and body against the route's schemas (issues name `query.x`, `body.x`). */
export async function validateRequest(r: ApiRoute, c: Context): Promise<{ query: unknown; body: unknown }> {
  // `?before=` means no `before`: coerced, an empty string would become 0 and match nothing.
  const present = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
  const query = r.query ? parseOrThrow(r.query, present, 'query', ['query']) : {};
  if (!r.body || r.body === 'raw') return { query, body: undefined };
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new UserError('invalid_json', 'the body must be valid JSON');
  }
  return { query, body: parseOrThrow(r.body, json, 'body', ['body']) };
}

/** The OpenAPI 3.1 document of the management API. */
export function openApiDocument(routes: readonly ApiRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, unknown> = {};
  for (const r of routes) {
    const path = `/api${r.path.replace(/:(\w+)/g, '{$1}')}`;
    const pathParams = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const queryParams = r.query ? queryParameters(r.query) : [];
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...pathParams, ...queryParams],
      responses: {
        [String(r.status ?? 200)]: { description: 'success' },
        '400': { description: 'invalid input: `issues` lists `{ code, path, message }`' },
        '401': { description: 'missing or unknown admin API key' },
      },
    };
    if (r.body === 'raw') {
      op.requestBody = {
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      };
    } else if (r.body) {
      const schema = hoistDefinitions(
        z.toJSONSchema(r.body, { io: 'input' }),
        `${r.method}${r.path}`,
        components,
      );
      op.requestBody = { required: true, content: { 'application/json': { schema } } };
    }
    paths[path] = { ...paths[path], [r.method]: op };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Sluice management API', version },
    components: { schemas: components, securitySchemes: { adminKey: { type: 'http', scheme: 'bearer' } } },
    security: [{ adminKey: [] }],
    paths,
  };
}

/**
 * Moves a schema's `$defs` (recursive schemas such as the segment language have them) into the
 * document's components, where `$ref`s in an OpenAPI document must point.
 */
function hoistDefinitions(
  schema: Record<string, unknown>,
  owner: string,
  components: Record<string, unknown>,
) {
  const { $defs, $schema: _, ...rest } = schema as { $defs?: Record<string, unknown>; $schema?: string };
  if (!$defs) return rest;
  const prefix = owner.replace(/[^A-Za-z0-9]+/g, '_');
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) =>
        k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
          ? [k, `#/components/schemas/${prefix}${v.slice('#/$defs/'.length)}`]
          : [k, rewrite(v)],
      ),
    );
  };
  for (const [name, def] of Object.entries($defs)) components[`${prefix}${name}`] = rewrite(def);
  return rewrite(rest) as Record<string, unknown>;
}

function queryParameters(schema: z.ZodType): Record<string, unknown>[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: s,
  }));
}

/** Runs `fn`; the issues of a UserError it throws get `prefix` (where the input sat in the request). */
export async function inBody<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof UserError) || err.issues.length === 0 || err.issues[0]!.path[0] === 'body')
      throw err;
    throw new UserError(
      err.code,
      err.message,
      err.issues.map((i) => ({ ...i, path: ['body', ...i.path] })),
    );
  }
}
