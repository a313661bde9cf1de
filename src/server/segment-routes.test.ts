import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issue, Segment } from '../core/index.js';
import type { LedgerRow } from '../store/index.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { basicAuth, postTracking } from '../test-support/tracking.js';

const VIEWED_NOT_BOUGHT = {
  name: 'Browsed, did not buy',
  condition: {
    kind: 'all',
    conditions: [
      {
        kind: 'event',
        event: 'Product Viewed',
        window: { kind: 'last', amount: 7, unit: 'days' },
        measure: { kind: 'count', test: { operator: 'at_least', value: 2 } },
      },
      {
        kind: 'event',
        event: 'Order Completed',
        performed: false,
        window: { kind: 'last', amount: 7, unit: 'days' },
      },
    ],
  },
};

describe.each(ENGINES)('segments over HTTP on %s', (engine) => {
  let s: TestServer;
  let writeKey: string;
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${s.url}${path}`, {
      method,
      headers: s.admin,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (res.status === 204 ? null : await res.json()) as T };
  };
  const track = async (batch: unknown[]) => {
    const res = await postTracking(s, 'batch', { batch }, { Authorization: basicAuth(writeKey) });
    expect(res.status).toBe(200);
    await s.app.identity.settle();
    await s.app.segments.settle();
  };
  const viewed = (userId: string, n: number) =>
    Array.from({ length: n }, () => ({
      type: 'track',
      userId,
      event: 'Product Viewed',
      properties: { sku: 'A1' },
    }));

  beforeAll(async () => {
    s = await startTestServer(engine);
    writeKey = (await s.createSource('web', 'events')).writeKey;
    await track([
      ...viewed('ann', 2),
      ...viewed('bob', 3),
      { type: 'track', userId: 'bob', event: 'Order Completed', properties: { revenue: 40 } },
      { type: 'identify', userId: 'cy', traits: { plan: 'gold' } },
    ]);
  });
  afterAll(async () => {
    await s.close();
  });

  it('creates a streaming segment, says why a ranking is batch-only, and keeps members current', async () => {
    const created = await call<Segment & { members: number }>('POST', '/api/segments', VIEWED_NOT_BOUGHT);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      mode: 'streaming',
      members: 1,
      sentence:
        'Product Viewed at least 2 times in the last 7 days and did not Order Completed in the last 7 days',
    });
    const ranked = await call<Segment & { members: number }>('POST', '/api/segments', {
      name: 'Top viewer',
      condition: {
        kind: 'rank',
        metric: { kind: 'event', event: 'Product Viewed', function: 'count' },
        direction: 'top',
        count: 1,
      },
    });
    expect(ranked.body.mode).toBe('batch');
    expect(ranked.body.modeReason).toMatch(/ranking/);
    expect(ranked.body.members).toBe(1);

    const id = created.body.id;
    const members = async () =>
      (
        await call<{ members: { profileId: string }[] }>('GET', `/api/segments/${id}/members`)
      ).body.members.map((m) => m.profileId);
    const [ann] = await members();
    // A third viewer qualifies as the views arrive; ann buys and leaves.
    await track([...viewed('dee', 2), { type: 'track', userId: 'ann', event: 'Order Completed' }]);
    const now = await members();
    expect(now).toHaveLength(1);
    expect(now).not.toContain(ann);

    const feed = await call<{ changes: LedgerRow[]; next: number }>(
      'GET',
      `/api/segments/${id}/changes?since=0`,
    );
    // Both as their events arrive, in their order: dee, a new user id, enters on her second view
    // (for the profile identity then founds for her); ann, a known profile, leaves as she buys.
    expect(feed.body.changes.map((c) => [c.profileId, c.entered, c.mode, c.reason.kind])).toEqual([
      [ann, true, 'streaming', 'recomputed'],
      [now[0], true, 'streaming', 'event'],
      [ann, false, 'streaming', 'event'],
    ]);
    expect(feed.body.changes[2]).toMatchObject({ reason: { event: 'Order Completed' } });
    const later = await call<{ changes: LedgerRow[]; next: number }>(
      'GET',
      `/api/segments/${id}/changes?since=${feed.body.next}`,
    );
    expect(later.body).toEqual({ changes: [], next: feed.body.next });

    const profile = await call<{ segments: { segmentId: string; name: string; since: string }[] }>(
      'GET',
      `/api/profiles/${now[0]}`,
    );
    expect(profile.body.segments).toContainEqual(
      expect.objectContaining({ segmentId: id, name: VIEWED_NOT_BOUGHT.name }),
    );
    const detail = await call<{ members: number; sizeByDay: { members: number }[] }>(
      'GET',
      `/api/segments/${id}`,
    );
    expect(detail.body.members).toBe(1);
    expect(detail.body.sizeByDay.at(-1)?.members).toBe(1);
  });

  it('previews an unsaved definition: count, sample, value and overlap', async () => {
    const saved = (await call<{ segments: Segment[] }>('GET', '/api/segments')).body.segments.find(
      (x) => x.name === VIEWED_NOT_BOUGHT.name,
    )!;
    const preview = await call<{
      count: number;
      sample: string[];
      overlaps: { segmentId: string; count: number; share: number }[];
      mode: string;
    }>('POST', '/api/segments/preview', {
      condition: { kind: 'event', event: 'Product Viewed' },
      sample: 2,
      overlapWith: [saved.id],
    });
    expect(preview.status).toBe(200);
    expect(preview.body.count).toBe(3);
    expect(preview.body.sample).toHaveLength(2);
    expect(preview.body.overlaps).toEqual([
      { segmentId: saved.id, name: saved.name, count: 1, share: 1 / 3 },
    ]);
  });

  it('refuses unknown references and cycles, naming the field', async () => {
    const bad = await call<{ issues: Issue[] }>('POST', '/api/segments', {
      name: 'Bad',
      condition: {
        kind: 'any',
        conditions: [
          { kind: 'event', event: 'Never Sent' },
          { kind: 'attribute', attribute: 'shoe_size', test: { operator: 'exists' } },
          { kind: 'segment', segment: 'seg_missing' },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i) => i.path.join('.'))).toEqual([
      'body.condition.conditions.0.event',
      'body.condition.conditions.1.attribute',
      'body.condition.conditions.2.segment',
    ]);
    const malformed = await call<{ issues: Issue[] }>('POST', '/api/segments', {
      name: 'Malformed',
      condition: {
        kind: 'event',
        event: 'Product Viewed',
        window: { kind: 'last', amount: -1, unit: 'days' },
      },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.issues[0]?.path).toEqual(['body', 'condition', 'window', 'amount']);

    const a = await call<Segment>('POST', '/api/segments', {
      name: 'Gold',
      condition: { kind: 'attribute', attribute: 'plan', test: { operator: 'equals', value: 'GOLD' } },
    });
    expect(a.status).toBe(201);
    const b = await call<Segment>('POST', '/api/segments', {
      name: 'Not gold',
      condition: { kind: 'not', condition: { kind: 'segment', segment: a.body.id } },
    });
    expect(b.body.sentence).toBe('not (in segment Gold)');
    const cycle = await call<{ issues: Issue[] }>('PUT', `/api/segments/${a.body.id}`, {
      name: 'Gold',
      condition: { kind: 'segment', segment: b.body.id },
    });
    expect(cycle.status).toBe(400);
    expect(cycle.body.issues).toEqual([
      expect.objectContaining({ code: 'cycle', path: ['body', 'condition', 'segment'] }),
    ]);
    const inUse = await call<{ code: string }>('DELETE', `/api/segments/${a.body.id}`);
    expect(inUse.status).toBe(400);
    expect((await call('DELETE', `/api/segments/${b.body.id}`)).status).toBe(204);
    expect((await call('GET', `/api/segments/${b.body.id}`)).status).toBe(404);
  });

  it('requires an admin key', async () => {
    const res = await fetch(`${s.url}/api/segments`);
    expect(res.status).toBe(401);
    const withWriteKey = await fetch(`${s.url}/api/segments`, {
      headers: { Authorization: basicAuth(writeKey) },
    });
    expect(withWriteKey.status).toBe(403);
  });
});
