import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRecord } from '../store/index.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { storedEvents } from '../test-support/tracking.js';

const HOUR = 3_600_000;
// How far the stored timestamp may be from the caller's: the client's sentAt and our receivedAt
// differ by the request's trip over loopback, which the clock correction cannot tell from skew.
const TRIP_TOLERANCE_MS = 5000;

/** The headers of every request the tracking API receives while `fn` runs. */
async function recordTrackingHeaders(s: TestServer, fn: () => Promise<void>): Promise<IncomingHttpHeaders[]> {
  const seen: IncomingHttpHeaders[] = [];
  const listener = (req: IncomingMessage) => {
    if (req.url?.startsWith('/v1/')) seen.push(req.headers);
  };
  s.app.server.on('request', listener);
  try {
    await fn();
  } finally {
    s.app.server.off('request', listener);
  }
  return seen;
}

/** Checks the identify, track and page calls both SDK tests make, as stored. */
function expectStoredCalls(events: EventRecord[], sourceId: string, userId: string, past: Date): void {
  expect(events.map((e) => [e.type, e.sourceId])).toEqual([
    ['identify', sourceId],
    ['track', sourceId],
    ['page', sourceId],
  ]);
  const [identify, track, page] = events as [EventRecord, EventRecord, EventRecord];
  expect(identify).toMatchObject({ userId, anonymousId: 'anon-7', event: null });
  expect(identify.traits).toEqual({ email: 'ada@example.com', plan: 'pro' });

  expect(track).toMatchObject({ userId, event: 'Order Completed' });
  expect(track.properties).toEqual({ total: 42.5, currency: 'EUR', items: ['book', 'pen'] });
  // The caller's timestamp, corrected by the (here tiny) gap between the client's clock and ours.
  expect(track.originalTimestamp?.toISOString()).toBe(past.toISOString());
  expect(track.sentAt).not.toBeNull();
  expect(track.timestamp.getTime()).toBe(
    track.receivedAt.getTime() - (track.sentAt!.getTime() - past.getTime()),
  );
  expect(Math.abs(track.timestamp.getTime() - past.getTime())).toBeLessThan(TRIP_TOLERANCE_MS);

  expect(page).toMatchObject({ anonymousId: 'anon-7', event: 'Pricing' });
  expect(page.userId).toBeNull();
  expect(page.properties).toMatchObject({ path: '/pricing', category: 'Docs' });
  // No timestamp given: the client's "now", corrected, lands at about when we received it.
  expect(Math.abs(page.timestamp.getTime() - page.receivedAt.getTime())).toBeLessThan(TRIP_TOLERANCE_MS);

  expect(new Set(events.map((e) => e.messageId)).size).toBe(3);
}

describe.each(ENGINES)('tracking API with the real SDKs on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => {
    await s.close();
  });

  it('stores identify, track and page sent by @segment/analytics-node', async () => {
    const source = await s.createSource('segment node');
    const past = new Date(Date.now() - HOUR);
    const analytics = new Analytics({
      writeKey: source.writeKey,
      host: s.url,
      flushAt: 10,
      flushInterval: 50,
    });
    const errors: unknown[] = [];
    analytics.on('error', (err) => errors.push(err));
    const sentIds: string[] = [];
    analytics.on('http_request', (req) => {
      sentIds.push(
        ...(JSON.parse(req.body) as { batch: { messageId: string }[] }).batch.map((e) => e.messageId),
      );
    });

    const headers = await recordTrackingHeaders(s, async () => {
      analytics.identify({
        userId: 'u-seg',
        anonymousId: 'anon-7',
        traits: { email: 'ada@example.com', plan: 'pro' },
      });
      analytics.track({
        userId: 'u-seg',
        event: 'Order Completed',
        properties: { total: 42.5, currency: 'EUR', items: ['book', 'pen'] },
        timestamp: past,
      });
      analytics.page({
        anonymousId: 'anon-7',
        name: 'Pricing',
        category: 'Docs',
        properties: { path: '/pricing' },
      });
      await analytics.closeAndFlush();
    });

    expect(errors).toEqual([]);
    expect(headers.length).toBeGreaterThan(0);
    for (const h of headers) expect(h.authorization).toMatch(/^Basic /);
    const events = await storedEvents(s, source.id);
    expectStoredCalls(events, source.id, 'u-seg', past);
    expect(events.map((e) => e.messageId).sort()).toEqual([...sentIds].sort());
    expect(events[0]?.context).toMatchObject({ library: { name: '@segment/analytics-node' } });
  });

  it('stores identify, track and page sent gzipped by @rudderstack/rudder-sdk-node', async () => {
    const source = await s.createSource('rudder node');
    const past = new Date(Date.now() - HOUR);
    const errors: unknown[] = [];
    // No persistence queue (that needs Redis): the in-memory queue, flushed by hand.
    const client = new RudderAnalytics(source.writeKey, {
      dataPlaneUrl: s.url,
      flushAt: 10,
      flushInterval: 60_000,
      logLevel: 'error',
      retryCount: 0,
      errorHandler: (err) => errors.push(err),
    });
    // Each call's callback runs once its batch got an answer (with the error, if any).
    const delivered = (send: (done: (err?: Error) => void) => void) =>
      new Promise<void>((resolve, reject) => send((err) => (err ? reject(err) : resolve())));

    const headers = await recordTrackingHeaders(s, async () => {
      const calls = [
        delivered((done) =>
          client.identify(
            { userId: 'u-rudder', anonymousId: 'anon-7', traits: { email: 'ada@example.com', plan: 'pro' } },
            done,
          ),
        ),
        delivered((done) =>
          client.track(
            {
              userId: 'u-rudder',
              event: 'Order Completed',
              properties: { total: 42.5, currency: 'EUR', items: ['book', 'pen'] },
              timestamp: past,
            },
            done,
          ),
        ),
        delivered((done) =>
          client.page(
            { anonymousId: 'anon-7', name: 'Pricing', category: 'Docs', properties: { path: '/pricing' } },
            done,
          ),
        ),
      ];
      await client.flush();
      await Promise.all(calls);
    });

    expect(errors).toEqual([]);
    expect(headers.length).toBeGreaterThan(0);
    for (const h of headers) {
      expect(h['content-encoding']).toBe('gzip');
      expect(h['content-type']).not.toMatch(/json/);
      expect(h.authorization).toMatch(/^Basic /);
    }
    const events = await storedEvents(s, source.id);
    expectStoredCalls(events, source.id, 'u-rudder', past);
    expect(events[0]?.context).toMatchObject({ library: { name: 'analytics-node' } });
  });
});
