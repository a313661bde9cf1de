import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerProfile, IdentityExplanation } from '../identity/index.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { basicAuth, postTracking } from '../test-support/tracking.js';

const CRM_CSV = [
  'customer_id,email,first_name,city',
  'C1,Ann@Example.com,Ann,Lisbon',
  'C2,bob@example.com,Bob,Porto',
].join('\n');

const CRM_MAPPING = {
  kind: 'profiles',
  recordId: 'customer_id',
  identifiers: { customer_id: 'customer_id', email: 'email' },
  attributes: { first_name: 'first_name', city: 'city' },
};

describe.each(ENGINES)('Customer 360 and identity over HTTP on %s', (engine) => {
  let s: TestServer;
  let writeKey: string;
  const get = async <T>(path: string) => {
    const res = await fetch(`${s.url}${path}`, { headers: s.admin });
    return { status: res.status, body: (await res.json()) as T };
  };
  const track = (batch: unknown[]) =>
    postTracking(s, 'batch', { batch }, { Authorization: basicAuth(writeKey) });
  const profileIdOf = async (identifier: string) =>
    (await get<{ profiles: { id: string }[] }>(`/api/profiles?identifier=${encodeURIComponent(identifier)}`))
      .body.profiles[0]?.id;

  beforeAll(async () => {
    s = await startTestServer(engine);
    writeKey = (await s.createSource('web', 'events')).writeKey;
    const crm = await s.createSource('crm', 'profiles');
    for (const trait of [
      { name: 'lifetime_revenue', event: 'Order Completed', aggregate: 'sum', property: 'revenue' },
      { name: 'order_count', event: 'Order Completed', aggregate: 'count' },
      {
        name: 'favorite_category',
        event: 'Product Viewed',
        aggregate: 'most_frequent',
        property: 'category',
      },
    ]) {
      const res = await fetch(`${s.url}/api/traits`, {
        method: 'POST',
        headers: s.admin,
        body: JSON.stringify(trait),
      });
      expect(res.status).toBe(201);
    }
    const imported = await fetch(
      `${s.url}/api/sources/${crm.id}/imports?format=csv&mapping=${encodeURIComponent(JSON.stringify(CRM_MAPPING))}`,
      { method: 'POST', headers: { Authorization: s.admin.Authorization! }, body: CRM_CSV },
    );
    expect(imported.status).toBe(201);
    // An anonymous visitor browses, then signs in with the CRM customer's email, then buys twice.
    expect(
      (
        await track([
          {
            type: 'track',
            anonymousId: 'anon-1',
            event: 'Product Viewed',
            properties: { category: 'tents' },
          },
          {
            type: 'track',
            anonymousId: 'anon-1',
            event: 'Product Viewed',
            properties: { category: 'tents' },
          },
          {
            type: 'track',
            anonymousId: 'anon-1',
            event: 'Product Viewed',
            properties: { category: 'boots' },
          },
        ])
      ).status,
    ).toBe(200);
    await s.app.identity.settle();
    await track([
      {
        type: 'identify',
        userId: 'U1',
        anonymousId: 'anon-1',
        traits: { email: 'ann@example.com', tier: 'gold' },
      },
      { type: 'track', userId: 'U1', event: 'Order Completed', properties: { revenue: 40.5 } },
      { type: 'track', userId: 'U1', event: 'Order Completed', properties: { revenue: '9.5' } },
    ]);
    // Someone else signs in on the same browser: two user ids on one profile are refused.
    await track([{ type: 'identify', userId: 'U2', anonymousId: 'anon-1' }]);
    await s.app.identity.settle();
  });
  afterAll(async () => {
    await s.close();
  });

  it('finds a profile by any of its identifiers, normalized as stored', async () => {
    const id = await profileIdOf('email: ANN@example.com ');
    expect(id).toMatch(/^p_/);
    expect(await profileIdOf('customer_id:C1')).toBe(id);
    expect(await profileIdOf('user_id:U1')).toBe(id);
    expect(await profileIdOf('anonymous_id:anon-1')).toBe(id);
    expect(await profileIdOf('user_id:U2')).not.toBe(id);
    expect(await profileIdOf('email:nobody@example.com')).toBeUndefined();
  });

  it('shows the whole customer: attributes with their sources, identifiers, traits and events', async () => {
    const id = (await profileIdOf('customer_id:C1'))!;
    const { status, body } = await get<CustomerProfile>(`/api/profiles/${id}?events=10`);
    expect(status).toBe(200);
    expect(body.identifiers.map((i) => `${i.namespace}:${i.value}`).sort()).toEqual([
      'anonymous_id:anon-1',
      'customer_id:C1',
      'email:ann@example.com',
      'user_id:U1',
    ]);
    expect(body.attributes.first_name).toMatchObject({ value: 'Ann', source: 'crm', rule: 'most_recent' });
    expect(body.attributes.tier).toMatchObject({ value: 'gold', source: 'web' });
    expect(body.computedTraits).toEqual({ favorite_category: 'tents', lifetime_revenue: 50, order_count: 2 });
    // The anonymous views came along when the visitor signed in; newest first.
    const names = body.recentEvents.map((e) => `${e.type}:${e.event ?? ''}`);
    expect(names.filter((n) => n === 'track:Product Viewed')).toHaveLength(3);
    expect(names.filter((n) => n === 'track:Order Completed')).toHaveLength(2);
    expect(names).toContain('identify:');
    const times = body.recentEvents.map((e) => Date.parse(String(e.timestamp)));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(body.records).toEqual([expect.objectContaining({ source: 'crm', recordId: 'C1' })]);
  });

  it('explains the identity: what linked each identifier, the merge and the refused merge', async () => {
    const id = (await profileIdOf('customer_id:C1'))!;
    const { status, body } = await get<IdentityExplanation>(`/api/profiles/${id}/identity`);
    expect(status).toBe(200);
    const merge = body.audit.find((a) => a.kind === 'merge');
    expect(merge).toMatchObject({ profileId: id, refKind: 'event', source: 'web' });
    expect(body.aliases).toEqual([merge!.otherProfileId]);
    expect(body.audit.find((a) => a.kind === 'refusal')).toMatchObject({
      namespace: 'anonymous_id',
      value: 'anon-1',
      reason: expect.stringMatching(/more than 1 user_id/),
    });
    expect(body.identifiers.find((i) => i.namespace === 'customer_id')).toMatchObject({
      firstRefKind: 'record',
      source: 'crm',
    });
    // The merged id still answers, naming the profile it went into.
    const merged = await get<CustomerProfile>(`/api/profiles/${merge!.otherProfileId}`);
    expect(merged.body).toMatchObject({ id, resolvedFrom: merge!.otherProfileId });
  });

  it('pages through profiles and reports the graph in numbers', async () => {
    const first = await get<{ profiles: { id: string }[]; next: string | null }>('/api/profiles?limit=2');
    expect(first.body.profiles).toHaveLength(2);
    const rest = await get<{ profiles: { id: string }[] }>(
      `/api/profiles?limit=100&after=${first.body.next}`,
    );
    expect(rest.body.profiles.map((p) => p.id)).not.toContain(first.body.profiles[0]!.id);
    // C1/U1 (with anon-1), C2, and U2 refused onto a profile of its own.
    expect(first.body.profiles.length + rest.body.profiles.length).toBe(3);
    const identity = await get<{ stats: { profiles: number; audit: Record<string, number> } }>(
      '/api/identity',
    );
    expect(identity.body.stats).toMatchObject({ profiles: 3, audit: { merge: 1, refusal: 1 } });
  });

  it('says what is wrong with a bad lookup, an unknown profile or bad settings', async () => {
    const bad = await get<{ issues: { path: string[] }[] }>('/api/profiles?identifier=nonamespace');
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0]!.path).toEqual(['query', 'identifier']);
    const unusable = await get<{ issues: { path: string[] }[] }>(
      '/api/profiles?identifier=email:not-an-email',
    );
    expect(unusable.status).toBe(400);
    expect((await get('/api/profiles/p_unknown')).status).toBe(404);
    const res = await fetch(`${s.url}/api/identity/config`, {
      method: 'PUT',
      headers: s.admin,
      body: JSON.stringify({
        limits: { email: 0 },
        defaultCountry: 'usa',
        blocked: { email: ['(unclosed'] },
      }),
    });
    expect(res.status).toBe(400);
    const paths = ((await res.json()) as { issues: { path: string[] }[] }).issues.map((i) =>
      i.path.join('.'),
    );
    expect(paths.sort()).toEqual(['body.blocked.email.0', 'body.defaultCountry', 'body.limits.email']);
    const trait = await fetch(`${s.url}/api/traits`, {
      method: 'POST',
      headers: s.admin,
      body: JSON.stringify({ name: 'total', aggregate: 'sum' }),
    });
    expect(trait.status).toBe(400);
  });

  it('rebuilds from stored data with new settings, keeping the ids of unchanged profiles', async () => {
    const before = (await profileIdOf('customer_id:C2'))!;
    const ann = (await profileIdOf('customer_id:C1'))!;
    const res = await fetch(`${s.url}/api/identity/config`, {
      method: 'PUT',
      headers: s.admin,
      body: JSON.stringify({ limits: { user_id: 2, customer_id: 1 } }),
    });
    expect(res.status).toBe(200);
    expect(await profileIdOf('customer_id:C2')).toBe(before);
    // With two user ids allowed, U2 now joins Ann's profile, which keeps its id; the other limits
    // keep their defaults.
    expect(await profileIdOf('user_id:U2')).toBe(ann);
    const identity = await get<{ config: { limits: Record<string, number> } }>('/api/identity');
    expect(identity.body.config.limits).toMatchObject({ user_id: 2, email: 5, phone: 5 });
  });
});
