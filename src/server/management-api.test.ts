import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issue, Source } from '../core/index.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, TEST_ADMIN_KEY, type TestServer } from '../test-support/server.js';
import type { ServerDeps } from './deps.js';
import { apiRoutes } from './management-api.js';

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
}

interface EventsPage {
  events: { seq: number; messageId: string; type: string; userId: string | null; sourceId: string }[];
  next: number | null;
}

describe.each(ENGINES)('management API on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Calls the API with the admin key unless `headers` say otherwise. */
  async function api<T = Record<string, unknown>>(
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const res = await fetch(`${s.url}${path}`, {
      method: init.method ?? 'GET',
      headers: init.headers ?? s.admin,
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** Sends to the tracking API with the write key as the Basic username. */
  async function track(source: Source, route: string, body: unknown): Promise<Answer> {
    const res = await fetch(`${s.url}/v1/${route}`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${source.writeKey}:`).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  describe('sources', () => {
    it('creates a source and answers 201 with its write key', async () => {
      const res = await api<Source>('/api/sources', {
        method: 'POST',
        body: { name: 'web-shop', kind: 'events', description: 'the storefront' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'web-shop', kind: 'events', description: 'the storefront' });
      expect(res.body.id).toMatch(/^src_/);
      expect(res.body.writeKey).toMatch(/^wk_/);

      const read = await api<Source>(`/api/sources/${res.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ ...res.body, createdAt: read.body.createdAt });
      expect(new Date(read.body.createdAt).getTime()).toBe(new Date(res.body.createdAt).getTime());

      const list = await api<{ sources: Source[] }>('/api/sources');
      expect(list.status).toBe(200);
      expect(list.body.sources.map((x) => x.name)).toContain('web-shop');
    });

    it('refuses an invalid body with an issue pointing at the field', async () => {
      const res = await api<{ code: string; issues: Issue[] }>('/api/sources', {
        method: 'POST',
        body: { name: 'bad-kind', kind: 'videos' },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_input');
      expect(res.body.issues).toEqual([
        { code: expect.any(String), path: ['body', 'kind'], message: expect.any(String) },
      ]);

      const names = await api<{ issues: Issue[] }>('/api/sources', {
        method: 'POST',
        body: { name: 'no/slashes', kind: 'events' },
      });
      expect(names.status).toBe(400);
      expect(names.body.issues.map((i) => i.path)).toEqual([['body', 'name']]);

      const notJson = await api<{ code: string }>('/api/sources', { method: 'POST', body: '{"name":' });
      expect(notJson.status).toBe(400);
      expect(notJson.body.code).toBe('invalid_json');

      const list = await api<{ sources: Source[] }>('/api/sources');
      expect(list.body.sources.map((x) => x.name)).not.toContain('bad-kind');
    });

    it('answers 409 to a second source with the same name, even when both arrive at once', async () => {
      expect(
        (await api('/api/sources', { method: 'POST', body: { name: 'crm', kind: 'profiles' } })).status,
      ).toBe(201);
      const again = await api<{ code: string; issues: Issue[] }>('/api/sources', {
        method: 'POST',
        body: { name: 'crm', kind: 'events' },
      });
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('conflict');

      const racing = await Promise.all(
        Array.from({ length: 4 }, () =>
          api('/api/sources', { method: 'POST', body: { name: 'pos', kind: 'profiles' } }),
        ),
      );
      expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
      const list = await api<{ sources: Source[] }>('/api/sources');
      expect(list.body.sources.filter((x) => x.name === 'pos')).toHaveLength(1);
    });

    it('answers 404 for an unknown source', async () => {
      const res = await api<{ code: string }>('/api/sources/src_nope');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
      expect((await api('/api/sources/src_nope/stats')).status).toBe(404);
    });
  });

  describe('stats and events', () => {
    let app: Source;
    let other: Source;
    beforeAll(async () => {
      app = await s.createSource('app');
      other = await s.createSource('other-app');
    });

    it('counts what a source received by type, with rejects and when it last arrived', async () => {
      const before = Date.now();
      expect((await api(`/api/sources/${app.id}/stats`)).body).toMatchObject({
        events: { total: 0, byType: {}, lastReceivedAt: null },
        rejects: { total: 0 },
      });
      expect(
        (await track(app, 'track', { userId: 'u-1', event: 'Signed Up', messageId: 'm-1' })).status,
      ).toBe(200);
      const batch = await track(app, 'batch', {
        batch: [
          { type: 'identify', userId: 'u-1', traits: { email: 'a@x.com' }, messageId: 'm-2' },
          { type: 'track', userId: 'u-2', event: 'Order Completed', messageId: 'm-3' },
          { type: 'page', anonymousId: 'a-1', name: 'Home', messageId: 'm-4' },
          { type: 'track', userId: 'u-3', messageId: 'm-5' },
          { type: 'track', userId: 'u-1', event: 'Signed Up', messageId: 'm-1' },
        ],
      });
      expect(batch.status).toBe(200);
      expect(batch.body).toMatchObject({ accepted: 4, duplicates: 1, rejected: [{ index: 3 }] });
      expect((await track(app, 'track', { userId: 'u-4' })).status).toBe(400);
      expect((await track(other, 'track', { userId: 'u-9', event: 'Elsewhere' })).status).toBe(200);

      const stats = await api<{
        sourceId: string;
        events: { total: number; byType: Record<string, number>; lastReceivedAt: string };
        rejects: { total: number; lastReceivedAt: string };
        profileRecords: { total: number };
      }>(`/api/sources/${app.id}/stats`);
      expect(stats.status).toBe(200);
      expect(stats.body).toMatchObject({
        sourceId: app.id,
        events: { total: 4, byType: { track: 2, identify: 1, page: 1 } },
        rejects: { total: 2 },
        profileRecords: { total: 0 },
      });
      const last = new Date(stats.body.events.lastReceivedAt).getTime();
      expect(last).toBeGreaterThanOrEqual(before - 1000);
      expect(last).toBeLessThanOrEqual(Date.now() + 1000);
      expect(stats.body.rejects.lastReceivedAt).not.toBeNull();
    });

    it('lists events newest first, filtered and paged with before', async () => {
      const sent = Array.from({ length: 7 }, (_, i) => ({
        type: 'track',
        userId: i % 2 === 0 ? 'pager-even' : 'pager-odd',
        event: `Step ${i}`,
        messageId: `page-${i}`,
      }));
      expect((await track(app, 'batch', { batch: sent.slice(0, 4) })).status).toBe(200);
      expect((await track(app, 'batch', { batch: sent.slice(4) })).status).toBe(200);

      const seen: string[] = [];
      let before: number | null = null;
      for (let i = 0; i < 10; i++) {
        const q: string = `source=${app.name}&type=track&limit=3${before === null ? '' : `&before=${before}`}`;
        const page: Answer<EventsPage> = await api<EventsPage>(`/api/events?${q}`);
        expect(page.status).toBe(200);
        expect(page.body.events.length).toBeLessThanOrEqual(3);
        for (const e of page.body.events) {
          expect(e).toMatchObject({ type: 'track', sourceId: app.id });
          seen.push(e.messageId);
        }
        const seqs = page.body.events.map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
        before = page.body.next;
        if (before === null) break;
      }
      // Newest first: the second batch, then the first, then the single track calls of the stats test.
      expect(seen).toEqual([
        'page-6',
        'page-5',
        'page-4',
        'page-3',
        'page-2',
        'page-1',
        'page-0',
        'm-3',
        'm-1',
      ]);

      const byUser = await api<EventsPage>(`/api/events?source=${app.id}&userId=pager-odd`);
      expect(byUser.body.events.map((e) => e.messageId)).toEqual(['page-5', 'page-3', 'page-1']);
      expect(byUser.body.next).toBeNull();

      const elsewhere = await api<EventsPage>(`/api/events?source=${other.id}`);
      expect(elsewhere.body.events.map((e) => e.userId)).toEqual(['u-9']);

      expect((await api(`/api/events?source=nowhere`)).status).toBe(404);

      // An empty parameter is an absent one (a client's first page is `before=` with nothing yet).
      const first = await api<EventsPage>(`/api/events?source=${app.id}&userId=pager-odd&before=&limit=`);
      expect(first.status).toBe(200);
      expect(first.body.events.map((e) => e.messageId)).toEqual(['page-5', 'page-3', 'page-1']);
    });

    it('names the query parameter that is wrong', async () => {
      for (const [query, path] of [
        ['limit=abc', ['query', 'limit']],
        ['limit=0', ['query', 'limit']],
        ['limit=1001', ['query', 'limit']],
        ['before=1.5', ['query', 'before']],
        ['type=purchase', ['query', 'type']],
      ] as const) {
        const res = await api<{ code: string; issues: Issue[] }>(`/api/events?${query}`);
        expect(res.status, query).toBe(400);
        expect(
          res.body.issues.map((i) => i.path),
          query,
        ).toEqual([path]);
      }
      const rejects = await api<{ issues: Issue[] }>(`/api/sources/${app.id}/rejects?limit=abc`);
      expect(rejects.status).toBe(400);
      expect(rejects.body.issues[0]?.path).toEqual(['query', 'limit']);
    });
  });

  describe('admin keys', () => {
    it('shows a new key once, lists keys without it, and refuses it once revoked', async () => {
      const created = await api<{ key: string; apiKey: { id: string; name: string; prefix: string } }>(
        '/api/keys',
        { method: 'POST', body: { name: 'automation' } },
      );
      expect(created.status).toBe(201);
      const { key, apiKey } = created.body;
      expect(key).toMatch(/^sk_/);
      expect(apiKey).toMatchObject({ name: 'automation', prefix: key.slice(0, 8) });

      const asNewKey = { Authorization: `Bearer ${key}` };
      expect((await api('/api/sources', { headers: asNewKey })).status).toBe(200);

      const list = await api<{ keys: Record<string, unknown>[] }>('/api/keys');
      expect(list.status).toBe(200);
      expect(list.body.keys.map((k) => k.name)).toEqual(
        expect.arrayContaining(['automation', 'SLUICE_ADMIN_KEY']),
      );
      const text = JSON.stringify(list.body);
      expect(text).not.toContain(key);
      expect(text).not.toContain(TEST_ADMIN_KEY);
      for (const k of list.body.keys)
        expect(Object.keys(k).sort()).toEqual(['createdAt', 'id', 'name', 'prefix']);

      expect((await api(`/api/keys/${apiKey.id}`, { method: 'DELETE', headers: asNewKey })).status).toBe(204);
      expect((await api('/api/sources', { headers: asNewKey })).status).toBe(401);
      expect((await api(`/api/keys/${apiKey.id}`, { method: 'DELETE' })).status).toBe(404);
      const after = await api<{ keys: { id: string }[] }>('/api/keys');
      expect(after.body.keys.map((k) => k.id)).not.toContain(apiKey.id);
    });

    it('refuses a key without a name', async () => {
      const res = await api<{ issues: Issue[] }>('/api/keys', { method: 'POST', body: { name: '  ' } });
      expect(res.status).toBe(400);
      expect(res.body.issues[0]?.path).toEqual(['body', 'name']);
    });
  });

  describe('authentication', () => {
    it('answers 401 without a key or with a wrong one, and 403 to a write key', async () => {
      const source = await s.createSource('auth-check');
      const noKey = await api<{ code: string }>('/api/sources', { headers: {} });
      expect(noKey.status).toBe(401);
      expect(noKey.body.code).toBe('unauthorized');
      expect(
        (await api('/api/sources', { headers: { Authorization: 'Bearer sk_wrong_key_0000' } })).status,
      ).toBe(401);
      expect((await api('/api/sources', { headers: { Authorization: TEST_ADMIN_KEY } })).status).toBe(401);
      const writeKey = await api<{ code: string }>('/api/sources', {
        headers: { Authorization: `Bearer ${source.writeKey}` },
      });
      expect(writeKey.status).toBe(403);
      expect(writeKey.body.code).toBe('forbidden');
      const basic = Buffer.from(`${source.writeKey}:`).toString('base64');
      expect((await api('/api/events', { headers: { Authorization: `Basic ${basic}` } })).status).toBe(403);
      expect(
        (await api('/api/sources', { method: 'POST', body: { name: 'sneaky', kind: 'events' }, headers: {} }))
          .status,
      ).toBe(401);
      expect((await api('/api/openapi.json', { headers: {} })).status).toBe(401);
    });

    it('answers /health without a key', async () => {
      const res = await api<{ status: string; engine: string }>('/health', { headers: {} });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', engine });
    });
  });

  it('describes every route in the OpenAPI document', async () => {
    const res = await api<{
      openapi: string;
      paths: Record<string, Record<string, { parameters: unknown[] }>>;
    }>('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const listed = Object.entries(res.body.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routes = apiRoutes({ store: s.app.store } as ServerDeps).map(
      (r) => `${r.method.toUpperCase()} /api${r.path.replace(/:(\w+)/g, '{$1}')}`,
    );
    expect(listed.sort()).toEqual(routes.sort());
    // Every $ref (the recursive segment language has them) points at a schema of the document.
    const doc = res.body as unknown as { components: { schemas: Record<string, unknown> } };
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs)
      expect(doc.components.schemas[ref.replace('#/components/schemas/', '')]).toBeDefined();
    for (const expected of [
      'POST /api/sources',
      'GET /api/sources',
      'GET /api/sources/{id}',
      'GET /api/sources/{id}/stats',
      'GET /api/sources/{id}/rejects',
      'POST /api/sources/{id}/imports',
      'GET /api/sources/{id}/imports',
      'GET /api/events',
      'POST /api/keys',
      'GET /api/keys',
      'DELETE /api/keys/{id}',
    ]) {
      expect(listed).toContain(expected);
    }
    const eventParams = res.body.paths['/api/events']?.get?.parameters as { name: string }[];
    expect(eventParams.map((p) => p.name).sort()).toEqual(
      ['anonymousId', 'before', 'limit', 'source', 'type', 'userId'].sort(),
    );
  });
});
