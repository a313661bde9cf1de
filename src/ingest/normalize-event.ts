import { randomUUID } from 'node:crypto';
import {
  EVENT_TYPES,
  type EventType,
  eventSchemas,
  type Issue,
  isStorableTime,
  type StoredEvent,
  toIssues,
} from '../core/index.js';

export type NormalizeResult =
  | { ok: true; event: StoredEvent }
  | { ok: false; issues: Issue[]; messageId: string | null };

export interface BatchEnvelope {
  sentAt?: unknown;
  context?: unknown;
  integrations?: unknown;
}

/**
 * Validates one Segment call and turns it into a stored event. `type` comes from the route
 * (`/v1/track`) or, in a batch, from the item. `path` prefixes issue paths (e.g. `['batch', 3]`).
 * Applies the clock correction: `timestamp = receivedAt - (sentAt - (timestamp ?? originalTimestamp))`.
 */
export function normalizeEvent(
  raw: unknown,
  routeType: EventType | undefined,
  sourceId: string,
  receivedAt: Date,
  envelope: BatchEnvelope,
  path: (string | number)[],
): NormalizeResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(path, 'invalid_type', 'an event must be a JSON object', null);
  }
  const item = raw as Record<string, unknown>;
  const messageId = typeof item.messageId === 'string' ? item.messageId : null;
  const deep = Object.keys(item).find((field) => nestsDeeperThan(item[field], MAX_DEPTH));
  if (deep !== undefined) {
    return fail([...path, deep], 'too_deep', `${deep} nests deeper than ${MAX_DEPTH} levels`, messageId);
  }
  const type = routeType ?? item.type;
  if (!isEventType(type)) {
    return fail(
      [...path, 'type'],
      'invalid_value',
      `type must be one of ${EVENT_TYPES.join(', ')}`,
      messageId,
    );
  }
  const parsed = eventSchemas[type].safeParse(item);
  if (!parsed.success) return { ok: false, issues: toIssues(parsed.error, path), messageId };
  const e = parsed.data as Record<string, unknown>;

  const times = resolveTimes(e, envelope.sentAt, receivedAt);
  if ('issue' in times) return fail([...path, times.field], 'invalid_date', times.issue, messageId);

  const context = mergeContext(envelope.context, e.context);
  if (nestsDeeperThan(context, MAX_DEPTH)) {
    return fail([...path, 'context'], 'too_deep', `context nests deeper than ${MAX_DEPTH} levels`, messageId);
  }
  return {
    ok: true,
    event: {
      messageId: messageId ?? `sluice-${randomUUID()}`,
      sourceId,
      type,
      userId: idString(e.userId),
      anonymousId: idString(e.anonymousId),
      event:
        type === 'track'
          ? (e.event as string)
          : type === 'page' || type === 'screen'
            ? idString(e.name)
            : null,
      groupId: type === 'group' ? idString(e.groupId) : null,
      previousId: type === 'alias' ? idString(e.previousId) : null,
      timestamp: times.timestamp,
      originalTimestamp: times.original,
      sentAt: times.sentAt,
      receivedAt,
      properties: extraProperties(type, e),
      traits: (e.traits as Record<string, unknown> | null | undefined) ?? {},
      context,
    },
  };
}

function fail(
  path: (string | number)[],
  code: string,
  message: string,
  messageId: string | null,
): NormalizeResult {
  return { ok: false, issues: [{ code, path, message }], messageId };
}

// JSON.stringify and the engines recurse: an event nested thousands deep (a few KB of brackets)
// would throw while the whole group commit is written. Real events nest a handful of levels.
const MAX_DEPTH = 64;

function nestsDeeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels === 0) return true;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    if (nestsDeeperThan(v, levels - 1)) return true;
  }
  return false;
}

function isEventType(v: unknown): v is EventType {
  return typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v);
}

function idString(v: unknown): string | null {
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' && v !== '' ? v : null;
}

type Times =
  | { timestamp: Date; original: Date | null; sentAt: Date | null }
  | { issue: string; field: string };

function resolveTimes(e: Record<string, unknown>, envelopeSentAt: unknown, receivedAt: Date): Times {
  const ts = parseTime(e.timestamp);
  if (ts === 'invalid')
    return { issue: 'timestamp is not a valid ISO-8601 date in years 0001-9999', field: 'timestamp' };
  const orig = parseTime(e.originalTimestamp);
  if (orig === 'invalid')
    return {
      issue: 'originalTimestamp is not a valid ISO-8601 date in years 0001-9999',
      field: 'originalTimestamp',
    };
  const sent = parseTime(e.sentAt ?? envelopeSentAt);
  if (sent === 'invalid')
    return { issue: 'sentAt is not a valid ISO-8601 date in years 0001-9999', field: 'sentAt' };
  const clientTime = ts ?? orig;
  let timestamp = clientTime ?? receivedAt;
  // The client's clock may be off; the offset between its sentAt and our receivedAt corrects it.
  if (clientTime && sent)
    timestamp = new Date(receivedAt.getTime() - (sent.getTime() - clientTime.getTime()));
  if (!isStorableTime(timestamp.getTime()))
    return { issue: 'sentAt corrects the timestamp to outside years 0001-9999', field: 'sentAt' };
  return { timestamp, original: clientTime, sentAt: sent };
}

function parseTime(v: unknown): Date | null | 'invalid' {
  if (v === undefined || v === null || v === '') return null;
  const d = new Date(v as string | number);
  return isStorableTime(d.getTime()) ? d : 'invalid';
}

function mergeContext(envelope: unknown, own: unknown): Record<string, unknown> {
  const base = isObject(envelope) ? envelope : {};
  return isObject(own) ? { ...base, ...own } : { ...base };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Properties of the call; page and screen calls also keep their `category`. */
function extraProperties(type: EventType, e: Record<string, unknown>): Record<string, unknown> {
  const props = isObject(e.properties) ? e.properties : {};
  if (
    (type === 'page' || type === 'screen') &&
    typeof e.category === 'string' &&
    props.category === undefined
  ) {
    return { ...props, category: e.category };
  }
  return props;
}
