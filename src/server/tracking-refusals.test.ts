import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { basicAuth, postTracking, storedEvents } from '../test-support/tracking.js';

describe.each(ENGINES)('what the tracking API refuses, on %s', (engine) => {
  let s: TestServer;
  let sources = 0;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => {
    await s.close();
  });
  const newSource = () => s.createSource(`app ${++sources}`);

  it.each([
    { route: 'track', body: { userId: 'u-req' }, path: ['event'] },
    { route: 'group', body: { userId: 'u-req', traits: { name: 'Acme' } }, path: ['groupId'] },
    { route: 'alias', body: { userId: 'u-req' }, path: ['previousId'] },
    { route: 'identify', body: { traits: { email: 'x@example.com' } }, path: ['userId'] },
    { route: 'page', body: { userId: '', anonymousId: null, name: 'Home' }, path: ['userId'] },
  ])('refuses /v1/$route without $path with a 400 naming the field', async ({ route, body, path }) => {
    const source = await newSource();
    const res = await postTracking(s, route, body, { Authorization: basicAuth(source.writeKey) });

    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, code: 'invalid_event' });
    expect(res.body.issues?.map((i) => i.path)).toContainEqual(path);
    expect(await storedEvents(s, source.id)).toEqual([]);
  });

  it('refuses a body that is not JSON or not an object with 400', async () => {
    const source = await newSource();
    const auth = { Authorization: basicAuth(source.writeKey) };
    for (const body of ['{"userId": "u-bad", "event": ', '', '[{"userId":"u-bad"}]', '"hello"']) {
      const res = await postTracking(s, 'track', body, auth);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_json');
    }
    const badGzip = await postTracking(s, 'track', 'not gzip at all', {
      ...auth,
      'Content-Encoding': 'gzip',
    });
    expect(badGzip.status).toBe(400);
    expect(await storedEvents(s, source.id)).toEqual([]);
  });

  it('refuses a request body over 500 KB with 400, plain, chunked or once gunzipped', async () => {
    const source = await newSource();
    const auth = { Authorization: basicAuth(source.writeKey) };
    const item = (i: number) => ({
      type: 'track',
      userId: 'u-big',
      event: 'Big',
      properties: { pad: 'x'.repeat(900), i },
    });
    const body = JSON.stringify({ batch: Array.from({ length: 600 }, (_, i) => item(i)) });
    expect(body.length).toBeGreaterThan(500 * 1024);

    const plain = await postTracking(s, 'batch', body, auth);
    const zipped = gzipSync(body);
    expect(zipped.length).toBeLessThan(500 * 1024);
    const gunzipped = await postTracking(s, 'batch', zipped, { ...auth, 'Content-Encoding': 'gzip' });
    // Without a Content-Length the limit must hold while the body streams in.
    const chunks = async function* () {
      for (let i = 0; i < body.length; i += 64 * 1024) yield Buffer.from(body.slice(i, i + 64 * 1024));
    };
    const chunked = await fetch(`${s.url}/v1/batch`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: chunks(),
      duplex: 'half',
    } as RequestInit);

    for (const r of [plain, gunzipped]) {
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('payload_too_large');
    }
    expect(chunked.status).toBe(400);
    expect(((await chunked.json()) as { code: string }).code).toBe('payload_too_large');
    expect(await storedEvents(s, source.id)).toEqual([]);
  });

  it('refuses a single event over 32 KB with 400', async () => {
    const source = await newSource();
    const res = await postTracking(
      s,
      'track',
      { userId: 'u-huge', event: 'Huge', properties: { pad: 'x'.repeat(33 * 1024) } },
      { Authorization: basicAuth(source.writeKey) },
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('event_too_large');
    expect(await storedEvents(s, source.id)).toEqual([]);
  });

  it('rejects a batch item over 32 KB and stores the rest', async () => {
    const source = await newSource();
    const res = await postTracking(
      s,
      'batch',
      {
        batch: [
          { type: 'track', userId: 'u-huge', event: 'Small', messageId: 'h0' },
          {
            type: 'track',
            userId: 'u-huge',
            event: 'Huge',
            messageId: 'h1',
            properties: { pad: 'x'.repeat(33 * 1024) },
          },
          { type: 'track', userId: 'u-huge', event: 'Small', messageId: 'h2' },
        ],
      },
      { Authorization: basicAuth(source.writeKey) },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, rejected: [{ index: 1, messageId: 'h1' }] });
    expect(res.body.rejected?.[0]?.issues).toMatchObject([{ code: 'too_big', path: ['batch', 1] }]);
    expect((await storedEvents(s, source.id)).map((e) => e.messageId)).toEqual(['h0', 'h2']);
  });

  it('refuses a batch of more than 2,500 events with 400', async () => {
    const source = await newSource();
    const batch = Array.from({ length: 2501 }, (_, i) => ({
      type: 'track',
      userId: 'u',
      event: 'E',
      messageId: `b${i}`,
    }));
    const res = await postTracking(s, 'batch', { batch }, { Authorization: basicAuth(source.writeKey) });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('batch_too_large');
    expect(await storedEvents(s, source.id)).toEqual([]);
  });

  it('stores the valid part of a mixed batch and records each invalid item as a reject', async () => {
    const source = await newSource();
    const res = await postTracking(
      s,
      'batch',
      {
        batch: [
          { type: 'track', userId: 'u-mix', event: 'Signed Up', messageId: 'm0' },
          { type: 'identify', anonymousId: 'a-mix', traits: { email: 'mix@example.com' }, messageId: 'm1' },
          { type: 'track', userId: 'u-mix', messageId: 'm2' },
          { type: 'page', userId: 'u-mix', name: 'Home', messageId: 'm3' },
          { type: 'identify', traits: { email: 'nobody@example.com' }, messageId: 'm4' },
          { type: 'purchase', userId: 'u-mix', messageId: 'm5' },
          'not an event',
        ],
      },
      { Authorization: basicAuth(source.writeKey) },
    );

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, accepted: 3, duplicates: 0 });
    expect(res.body.rejected?.map((r) => [r.index, r.messageId, r.issues.map((i) => i.path)])).toEqual([
      [2, 'm2', [['batch', 2, 'event']]],
      [4, 'm4', [['batch', 4, 'userId']]],
      [5, 'm5', [['batch', 5, 'type']]],
      [6, null, [['batch', 6]]],
    ]);
    const events = await storedEvents(s, source.id);
    expect(events.map((e) => [e.messageId, e.type])).toEqual([
      ['m0', 'track'],
      ['m1', 'identify'],
      ['m3', 'page'],
    ]);

    const listed = await fetch(`${s.url}/api/sources/${source.id}/rejects`, { headers: s.admin });
    expect(listed.status).toBe(200);
    const { rejects } = (await listed.json()) as {
      rejects: {
        rowNumber: number;
        messageId: string | null;
        path: string;
        reason: string;
        payload: string;
      }[];
    };
    const byIndex = [...rejects].sort((a, b) => a.rowNumber - b.rowNumber);
    expect(byIndex.map((r) => [r.rowNumber, r.messageId, r.path])).toEqual([
      [2, 'm2', 'batch.2.event'],
      [4, 'm4', 'batch.4.userId'],
      [5, 'm5', 'batch.5.type'],
      [6, null, 'batch.6'],
    ]);
    expect(byIndex[0]?.reason).toMatch(/event/);
    expect(byIndex[1]?.reason).toMatch(/userId or anonymousId/);
    expect(JSON.parse(byIndex[0]!.payload)).toMatchObject({ messageId: 'm2' });
  });

  // Such an event used to reach the store and fail the whole group commit with 503, which clients retry.
  it('rejects dates outside years 0001-9999 and stores the rest of the batch', async () => {
    const source = await newSource();
    const track = { type: 'track', userId: 'u-date', event: 'Dated' };
    const res = await postTracking(
      s,
      'batch',
      {
        batch: [
          { ...track, messageId: 'd0', timestamp: '0001-01-01T00:00:00.000Z' },
          { ...track, messageId: 'd1', timestamp: '-010000-01-01T00:00:00.000Z' },
          { ...track, messageId: 'd2', originalTimestamp: '+020000-01-01T00:00:00.000Z' },
          { ...track, messageId: 'd3', timestamp: 8.64e15 },
          // Both dates are fine; the clock correction between them is not.
          {
            ...track,
            messageId: 'd4',
            timestamp: '9999-12-31T00:00:00.000Z',
            sentAt: '0001-01-01T00:00:00.000Z',
          },
        ],
      },
      { Authorization: basicAuth(source.writeKey) },
    );

    expect(res.status).toBe(200);
    expect(res.body.rejected?.map((r) => [r.messageId, r.issues.map((i) => i.path)])).toEqual([
      ['d1', [['batch', 1, 'timestamp']]],
      ['d2', [['batch', 2, 'originalTimestamp']]],
      ['d3', [['batch', 3, 'timestamp']]],
      ['d4', [['batch', 4, 'sentAt']]],
    ]);
    const [d0] = await storedEvents(s, source.id);
    expect(d0?.messageId).toBe('d0');
    expect(d0?.timestamp.toISOString()).toBe('0001-01-01T00:00:00.000Z');
  });

  // A few KB of brackets used to end in 500 (batch) or fail the group commit with 503 (single call).
  it('rejects an event nested thousands of levels deep with 400, or as a reject in a batch', async () => {
    const source = await newSource();
    const auth = { Authorization: basicAuth(source.writeKey) };
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const single = await postTracking(
      s,
      'track',
      `{"userId":"u-deep","event":"Deep","properties":{"n":${deep}}}`,
      auth,
    );
    const batch = await postTracking(
      s,
      'batch',
      `{"batch":[{"type":"track","userId":"u-deep","event":"Flat","messageId":"deep-0"},
        {"type":"track","userId":"u-deep","event":"Deep","messageId":"deep-1","context":{"n":${deep}}}]}`,
      auth,
    );

    expect(single.status).toBe(400);
    expect(single.body.issues).toMatchObject([{ code: 'too_deep', path: ['properties'] }]);
    expect(batch.status).toBe(200);
    expect(batch.body.rejected).toMatchObject([
      { index: 1, messageId: 'deep-1', issues: [{ code: 'too_deep', path: ['batch', 1, 'context'] }] },
    ]);
    expect((await storedEvents(s, source.id)).map((e) => e.messageId)).toEqual(['deep-0']);
  });

  it('stores NUL and unpaired surrogates, which PostgreSQL cannot hold, as U+FFFD', async () => {
    const source = await newSource();
    const json = JSON.stringify({
      batch: [
        {
          type: 'track',
          userId: 'u\u0000nul',
          event: 'Bad\u0000Name',
          properties: { lone: 'a\ud800b', 'k\u0000': 'v', emoji: 'EMOJI' },
          context: { trailing: 'x\udc00' },
          messageId: 'nul-1',
        },
      ],
    });
    // An escaped surrogate pair is a valid character and must come through whole.
    const res = await postTracking(s, 'batch', json.replace('EMOJI', '\\ud83d\\ude00'), {
      Authorization: basicAuth(source.writeKey),
    });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 1, rejected: [] });
    const [e] = await storedEvents(s, source.id);
    expect(e).toMatchObject({ userId: 'u\ufffdnul', event: 'Bad\ufffdName' });
    expect(e?.properties).toEqual({ lone: 'a\ufffdb', 'k\ufffd': 'v', emoji: '😀' });
    expect(e?.context).toEqual({ trailing: 'x\ufffd' });
  });

  describe('under back-pressure', () => {
    let slow: TestServer;
    beforeAll(async () => {
      // A commit waits a second, and at most 100 events may wait: two batches of 60 cannot both wait.
      slow = await startTestServer(engine, { 'ingest.maxPendingEvents': 100, 'ingest.commitDelayMs': 1000 });
    });
    afterAll(async () => {
      await slow.close();
    });

    it('answers 429 with Retry-After and loses nothing it acknowledged', async () => {
      const source = await slow.createSource('busy');
      const auth = { Authorization: basicAuth(source.writeKey) };
      const batches = Array.from({ length: 4 }, (_, b) => ({
        batch: Array.from({ length: 60 }, (_, i) => ({
          type: 'track',
          userId: `u${i}`,
          event: 'Busy',
          messageId: `bp-${b}-${i}`,
        })),
      }));
      const first = await Promise.all(batches.map((batch) => postTracking(slow, 'batch', batch, auth)));

      const ok = first.flatMap((r, b) => (r.status === 200 ? [b] : []));
      const refused = first.flatMap((r, b) => (r.status === 429 ? [b] : []));
      expect(ok.length + refused.length).toBe(batches.length);
      expect(ok.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const b of refused) {
        expect(Number(first[b]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(first[b]!.body).toMatchObject({ success: false, code: 'overloaded' });
      }
      const idsOf = (bs: number[]) => bs.flatMap((b) => batches[b]!.batch.map((e) => e.messageId)).sort();
      expect((await storedEvents(slow, source.id)).map((e) => e.messageId).sort()).toEqual(idsOf(ok));

      // A refused batch was not half-taken: its retry is stored in full, not counted as duplicates.
      for (const b of refused) {
        const retry = await postTracking(slow, 'batch', batches[b], { ...auth, 'X-Retry-Count': '1' });
        expect(retry.status).toBe(200);
        expect(retry.body).toMatchObject({ accepted: 60, duplicates: 0 });
      }
      expect((await storedEvents(slow, source.id)).map((e) => e.messageId).sort()).toEqual(
        idsOf(batches.map((_, b) => b)),
      );
    });
  });
});
