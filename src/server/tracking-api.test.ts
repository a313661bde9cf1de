import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { basicAuth, byMessageId, postTracking, storedEvents } from '../test-support/tracking.js';

const HOUR = 3_600_000;

describe.each(ENGINES)('Segment-compatible tracking API on %s', (engine) => {
  let s: TestServer;
  let sources = 0;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => {
    await s.close();
  });
  const newSource = () => s.createSource(`web ${++sources}`);

  it('stores a retried batch once and tells the retry it was all duplicates', async () => {
    const source = await newSource();
    const batch = {
      batch: ['r1', 'r2', 'r3'].map((messageId) => ({
        type: 'track',
        event: 'Checkout Started',
        userId: 'u-retry',
        messageId,
      })),
    };
    const auth = { Authorization: basicAuth(source.writeKey) };
    const first = await postTracking(s, 'batch', batch, auth);
    const retry = await postTracking(s, 'batch', batch, { ...auth, 'X-Retry-Count': '1' });

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ success: true, accepted: 3, duplicates: 0, rejected: [] });
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ success: true, duplicates: 3 });
    const events = await storedEvents(s, source.id);
    expect(events.map((e) => e.messageId).sort()).toEqual(['r1', 'r2', 'r3']);
  });

  it('takes the write key as the Basic username, with an empty or absent password', async () => {
    const source = await newSource();
    const withColon = await postTracking(
      s,
      'track',
      { userId: 'u-basic', event: 'A', messageId: 'basic-1' },
      { Authorization: basicAuth(source.writeKey) },
    );
    const withoutColon = await postTracking(
      s,
      'track',
      { userId: 'u-basic', event: 'B', messageId: 'basic-2' },
      { Authorization: `Basic ${Buffer.from(source.writeKey).toString('base64')}` },
    );
    const lowercase = await postTracking(
      s,
      'track',
      { userId: 'u-basic', event: 'C', messageId: 'basic-3' },
      { Authorization: basicAuth(source.writeKey).replace('Basic', 'basic') },
    );
    expect([withColon.status, withoutColon.status, lowercase.status]).toEqual([200, 200, 200]);
    const events = await storedEvents(s, source.id);
    expect(events.map((e) => [e.messageId, e.event, e.sourceId])).toEqual([
      ['basic-1', 'A', source.id],
      ['basic-2', 'B', source.id],
      ['basic-3', 'C', source.id],
    ]);
  });

  it('takes the write key from the body', async () => {
    const source = await newSource();
    const single = await postTracking(s, 'identify', {
      writeKey: source.writeKey,
      userId: 'u-body',
      traits: { plan: 'pro' },
      messageId: 'body-1',
    });
    const batch = await postTracking(s, 'batch', {
      writeKey: source.writeKey,
      batch: [{ type: 'track', userId: 'u-body', event: 'Upgraded', messageId: 'body-2' }],
    });
    expect([single.status, batch.status]).toEqual([200, 200]);
    const events = await storedEvents(s, source.id);
    expect(events.map((e) => [e.messageId, e.type, e.userId])).toEqual([
      ['body-1', 'identify', 'u-body'],
      ['body-2', 'track', 'u-body'],
    ]);
    expect(byMessageId(events, 'body-1').traits).toEqual({ plan: 'pro' });
  });

  it('answers 401 to a missing or unknown write key and stores nothing', async () => {
    const event = { userId: 'u-nokey', event: 'Sneaky' };
    const missing = await postTracking(s, 'track', event);
    const emptyBasic = await postTracking(s, 'track', event, { Authorization: basicAuth('') });
    const unknownHeader = await postTracking(s, 'track', event, { Authorization: basicAuth('wk_nope') });
    const unknownBody = await postTracking(s, 'track', { ...event, writeKey: 'wk_nope' });
    const unknownBatch = await postTracking(s, 'batch', { writeKey: 'wk_nope', batch: [event] });

    for (const r of [missing, emptyBasic, unknownHeader, unknownBody, unknownBatch]) {
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ success: false, code: 'unauthorized' });
    }
    expect(await s.app.store.events.query({ userId: 'u-nokey', limit: 10 })).toEqual([]);
  });

  it('gunzips a body whatever its Content-Type says', async () => {
    const source = await newSource();
    const send = (contentType: string, messageId: string) =>
      postTracking(
        s,
        'batch',
        gzipSync(
          JSON.stringify({
            batch: [
              { type: 'track', userId: 'u-gzip', event: 'Zipped', properties: { contentType }, messageId },
            ],
          }),
        ),
        {
          Authorization: basicAuth(source.writeKey),
          'Content-Type': contentType,
          'Content-Encoding': 'gzip',
        },
      );
    const form = await send('application/x-www-form-urlencoded', 'gz-1');
    const text = await send('text/plain', 'gz-2');

    expect([form.status, text.status]).toEqual([200, 200]);
    const events = await storedEvents(s, source.id);
    expect(events.map((e) => [e.messageId, e.event, e.properties])).toEqual([
      ['gz-1', 'Zipped', { contentType: 'application/x-www-form-urlencoded' }],
      ['gz-2', 'Zipped', { contentType: 'text/plain' }],
    ]);
  });

  it('generates a messageId when the call has none', async () => {
    const source = await newSource();
    const auth = { Authorization: basicAuth(source.writeKey) };
    // Two identical calls without ids: each must get its own id, so neither is taken for a retry.
    const first = await postTracking(s, 'track', { anonymousId: 'a-gen', event: 'Viewed' }, auth);
    const second = await postTracking(s, 'track', { anonymousId: 'a-gen', event: 'Viewed' }, auth);

    expect(first.body).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(second.body).toMatchObject({ accepted: 1, duplicates: 0 });
    const ids = (await storedEvents(s, source.id)).map((e) => e.messageId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toMatch(/\S{8,}/);
  });

  it('corrects a client clock one hour ahead or behind with sentAt', async () => {
    const source = await newSource();
    const auth = { Authorization: basicAuth(source.writeKey) };
    const iso = (ms: number) => new Date(ms).toISOString();
    // The client's clock is an hour ahead; by it, the event happened 5 s before it was sent.
    const ahead = Date.now() + HOUR;
    const before = Date.now();
    await postTracking(
      s,
      'track',
      {
        userId: 'u-clock',
        event: 'Ahead',
        timestamp: iso(ahead - 5000),
        sentAt: iso(ahead),
        messageId: 'c1',
      },
      auth,
    );
    const after = Date.now();
    // A batch from a client an hour behind: envelope sentAt, one item with only originalTimestamp.
    const behind = Date.now() - HOUR;
    await postTracking(
      s,
      'batch',
      {
        sentAt: iso(behind),
        batch: [
          {
            type: 'track',
            userId: 'u-clock',
            event: 'Behind',
            originalTimestamp: iso(behind - 2000),
            messageId: 'c2',
          },
          { type: 'track', userId: 'u-clock', event: 'Both', timestamp: iso(behind - 7000), messageId: 'c3' },
        ],
      },
      auth,
    );
    // Without sentAt there is nothing to correct with: the timestamp is kept.
    await postTracking(
      s,
      'track',
      { userId: 'u-clock', event: 'Kept', timestamp: '2024-03-01T10:00:00.000Z', messageId: 'c4' },
      auth,
    );

    const events = await storedEvents(s, source.id);
    const c1 = byMessageId(events, 'c1');
    expect(c1.receivedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(c1.receivedAt.getTime()).toBeLessThanOrEqual(after);
    expect(c1.timestamp.getTime()).toBe(c1.receivedAt.getTime() - 5000);
    expect(c1.originalTimestamp?.toISOString()).toBe(iso(ahead - 5000));
    expect(c1.sentAt?.toISOString()).toBe(iso(ahead));
    const c2 = byMessageId(events, 'c2');
    expect(c2.timestamp.getTime()).toBe(c2.receivedAt.getTime() - 2000);
    expect(c2.sentAt?.toISOString()).toBe(iso(behind));
    const c3 = byMessageId(events, 'c3');
    expect(c3.timestamp.getTime()).toBe(c3.receivedAt.getTime() - 7000);
    const c4 = byMessageId(events, 'c4');
    expect(c4.timestamp.toISOString()).toBe('2024-03-01T10:00:00.000Z');
    expect(c4.sentAt).toBeNull();
  });

  it('keeps write keys out of the management API', async () => {
    const source = await newSource();
    const bearer = await fetch(`${s.url}/api/sources`, {
      headers: { Authorization: `Bearer ${source.writeKey}` },
    });
    const basic = await fetch(`${s.url}/api/sources`, {
      headers: { Authorization: basicAuth(source.writeKey) },
    });
    const none = await fetch(`${s.url}/api/sources`);

    expect([bearer.status, basic.status, none.status]).toEqual([403, 403, 401]);
    expect(await bearer.json()).toMatchObject({ success: false, code: 'forbidden' });
  });

  it('stores events only in the source of the write key that sent them', async () => {
    const a = await newSource();
    const b = await newSource();
    await postTracking(
      s,
      'track',
      { userId: 'u-own', event: 'A', messageId: 'own-a' },
      { Authorization: basicAuth(a.writeKey) },
    );
    await postTracking(s, 'track', { userId: 'u-own', event: 'B', messageId: 'own-b', writeKey: b.writeKey });
    // Neither a sourceId in the event nor another key in the body moves it out of the header key's source.
    await postTracking(
      s,
      'batch',
      {
        writeKey: b.writeKey,
        batch: [{ type: 'track', userId: 'u-own', event: 'A2', sourceId: b.id, messageId: 'own-a2' }],
      },
      { Authorization: basicAuth(a.writeKey) },
    );

    const inA = await storedEvents(s, a.id);
    const inB = await storedEvents(s, b.id);
    expect(inA.map((e) => [e.messageId, e.sourceId])).toEqual([
      ['own-a', a.id],
      ['own-a2', a.id],
    ]);
    expect(inB.map((e) => [e.messageId, e.sourceId])).toEqual([['own-b', b.id]]);
  });
});
