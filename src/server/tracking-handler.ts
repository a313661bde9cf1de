import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AuthError,
  EVENT_TYPES,
  type EventType,
  type Issue,
  type Source,
  type StoredEvent,
  UserError,
} from '../core/index.js';
import { type BatchEnvelope, type EventWriter, normalizeEvent } from '../ingest/index.js';
import type { Reject, Store } from '../store/index.js';
import { errorResponse } from './error-response.js';
import { readBody } from './read-body.js';

export interface TrackingLimits {
  maxEventBytes: number;
  maxRequestBytes: number;
  maxBatchEvents: number;
}

interface RejectedItem {
  index: number;
  messageId: string | null;
  issues: Issue[];
}

const ROUTES = new Set<string>([...EVENT_TYPES, 'batch']);

/**
 * The Segment-compatible tracking API (`POST /v1/{identify,track,page,screen,group,alias,batch}`),
 * on plain `node:http` because it is the hot path. Answers only after the events are durable.
 */
export function createTrackingHandler(store: Store, writer: EventWriter, limits: TrackingLimits) {
  return async function handleTracking(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
  ): Promise<void> {
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Authorization, Content-Type, Content-Encoding, X-Retry-Count',
        'Access-Control-Max-Age': '86400',
      });
      return void res.end();
    }
    try {
      if (!ROUTES.has(route))
        return send(res, 404, { success: false, code: 'not_found', message: `no route /v1/${route}` });
      if (req.method !== 'POST')
        return send(res, 405, { success: false, code: 'method_not_allowed', message: 'use POST' });
      const receivedAt = new Date();
      const basicKey = writeKeyFromHeader(req.headers.authorization);
      // A key in the header is checked before the body is read; one in the body only after.
      const headerSource = basicKey === undefined ? undefined : await authenticate(store, basicKey);
      const body = await readBody(req, limits.maxRequestBytes);
      const payload = parseJson(body);
      const source =
        headerSource ?? (await authenticate(store, (payload as { writeKey?: unknown }).writeKey));
      const { events, rejected, rejects } =
        route === 'batch'
          ? fromBatch(payload, source, receivedAt, limits)
          : fromSingle(payload, route as EventType, source, receivedAt, body.length, limits);
      if (route !== 'batch' && rejected[0]) {
        await writer.submit([], rejects);
        const first = rejected[0].issues[0];
        return send(res, 400, {
          success: false,
          code: 'invalid_event',
          message: first ? `${first.path.join('.') || 'event'}: ${first.message}` : 'invalid event',
          issues: rejected[0].issues,
        });
      }
      const result = await writer.submit(events, rejects);
      send(res, 200, {
        success: true,
        accepted: events.length,
        duplicates: result.duplicates,
        ...(route === 'batch' ? { rejected } : {}),
      });
    } catch (err) {
      sendError(res, err);
    }
  };
}

function fromSingle(
  payload: unknown,
  type: EventType,
  source: Source,
  receivedAt: Date,
  size: number,
  limits: TrackingLimits,
) {
  if (size > limits.maxEventBytes) {
    throw new UserError(
      'event_too_large',
      `the event is ${size} bytes; at most ${limits.maxEventBytes} are accepted`,
    );
  }
  return collect([payload], type, source, receivedAt, {}, limits, () => []);
}

function fromBatch(payload: unknown, source: Source, receivedAt: Date, limits: TrackingLimits) {
  const body = payload as Record<string, unknown>;
  if (!Array.isArray(body.batch)) {
    throw new UserError('invalid_batch', 'the body must have a "batch" array', [
      { code: 'invalid_type', path: ['batch'], message: 'expected an array' },
    ]);
  }
  if (body.batch.length > limits.maxBatchEvents) {
    throw new UserError(
      'batch_too_large',
      `the batch has ${body.batch.length} events; at most ${limits.maxBatchEvents} are accepted`,
    );
  }
  const envelope: BatchEnvelope = {
    sentAt: body.sentAt,
    context: body.context,
    integrations: body.integrations,
  };
  return collect(body.batch, undefined, source, receivedAt, envelope, limits, (i) => ['batch', i]);
}

function collect(
  items: unknown[],
  type: EventType | undefined,
  source: Source,
  receivedAt: Date,
  envelope: BatchEnvelope,
  limits: TrackingLimits,
  pathOf: (index: number) => (string | number)[],
) {
  const events: StoredEvent[] = [];
  const rejected: RejectedItem[] = [];
  const rejects: Reject[] = [];
  items.forEach((item, index) => {
    const path = pathOf(index);
    const normalized = normalizeEvent(item, type, source.id, receivedAt, envelope, path);
    // A single call's size was checked on the body; batch items are measured one by one, once
    // normalizeEvent has ruled out nesting too deep for JSON.stringify.
    const size = normalized.ok && type === undefined ? Buffer.byteLength(JSON.stringify(item)) : 0;
    const result =
      size > limits.maxEventBytes
        ? {
            ok: false as const,
            messageId: messageIdOf(item),
            issues: [
              {
                code: 'too_big',
                path,
                message: `the event is ${size} bytes; at most ${limits.maxEventBytes} are accepted`,
              },
            ],
          }
        : normalized;
    if (result.ok) {
      events.push(result.event);
      return;
    }
    rejected.push({ index, messageId: result.messageId, issues: result.issues });
    const first = result.issues[0];
    rejects.push({
      sourceId: source.id,
      importId: null,
      rowNumber: type === undefined ? index : null,
      messageId: result.messageId,
      reason: first?.message ?? 'invalid event',
      path: first ? first.path.join('.') : null,
      payload: payloadOf(item),
      receivedAt,
    });
  });
  return { events, rejected, rejects };
}

/** The item as JSON for its reject; null when it nests too deep to serialize. */
function payloadOf(item: unknown): string | null {
  try {
    return JSON.stringify(item) ?? null;
  } catch {
    return null;
  }
}

function messageIdOf(item: unknown): string | null {
  const id = (item as { messageId?: unknown } | null)?.messageId;
  return typeof id === 'string' ? id : null;
}

function parseJson(body: Buffer): unknown {
  let value: unknown;
  try {
    const text = body.toString('utf8');
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError('invalid_json', `the body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError('invalid_json', 'the body must be a JSON object');
  }
  return value;
}

/** The write key from `Authorization: Basic base64(writeKey:)`. */
function writeKeyFromHeader(header: string | undefined): string | undefined {
  // The scheme is case-insensitive (RFC 9110); some clients send `basic`.
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const key = decoded.split(':')[0];
  return key || undefined;
}

async function authenticate(store: Store, writeKey: unknown): Promise<Source> {
  if (typeof writeKey !== 'string' || writeKey === '') {
    throw new AuthError('a write key is required: HTTP Basic username or "writeKey" in the body');
  }
  const source = await store.sources.findByWriteKey(writeKey);
  if (!source) throw new AuthError('unknown write key');
  return source;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(json),
    ...headers,
  });
  res.end(json);
}

function sendError(res: ServerResponse, err: unknown): void {
  const r = errorResponse(err, (msg, e) => console.error(`tracking API: ${msg}`, e));
  send(res, r.status === 413 ? 400 : r.status, r.body, r.headers);
}
