import type { Issue } from '../core/index.js';
import type { EventRecord } from '../store/index.js';
import type { TestServer } from './server.js';

/** What `POST /v1/...` answers, success or not. */
export interface TrackingResponse {
  status: number;
  headers: Headers;
  body: {
    success: boolean;
    code?: string;
    message?: string;
    accepted?: number;
    duplicates?: number;
    issues?: Issue[];
    rejected?: { index: number; messageId: string | null; issues: Issue[] }[];
  };
}

/** `Authorization: Basic base64(writeKey:)`, as the Segment and RudderStack SDKs send it. */
export function basicAuth(writeKey: string, password = ''): string {
  return `Basic ${Buffer.from(`${writeKey}:${password}`).toString('base64')}`;
}

/** Posts to the tracking API; an object body is sent as JSON, a string or buffer as is. */
export async function postTracking(
  s: TestServer,
  route: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<TrackingResponse> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const res = await fetch(`${s.url}/v1/${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: raw,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as TrackingResponse['body'] };
}

/** Every stored event of a source, oldest first. */
export async function storedEvents(s: TestServer, sourceId: string): Promise<EventRecord[]> {
  return (await s.app.store.events.query({ sourceId, limit: 10_000 })).reverse();
}

/** The stored event with this messageId; fails the test when there is none. */
export function byMessageId(events: EventRecord[], messageId: string): EventRecord {
  const e = events.find((x) => x.messageId === messageId);
  if (!e) throw new Error(`no stored event with messageId ${messageId}`);
  return e;
}
