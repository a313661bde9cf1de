import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createWebhookDestination, eventually } from '../test-support/delivery.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { basicAuth, postTracking } from '../test-support/tracking.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';

const BROWSERS = {
  name: 'Browsed, did not buy',
  condition: {
    kind: 'all',
    conditions: [
      { kind: 'event', event: 'Product Viewed' },
      { kind: 'event', event: 'Order Completed', performed: false },
    ],
  },
};

describe.each(ENGINES)('an audience sync on %s', (engine) => {
  let s: TestServer;
  let receiver: WebhookReceiver;
  let writeKey: string;
  const track = async (batch: unknown[]) => {
    const res = await postTracking(s, 'batch', { batch }, { Authorization: basicAuth(writeKey) });
    expect(res.status).toBe(200);
    await s.app.identity.settle();
    await s.app.segments.settle();
  };
  const person = (userId: string) => ({
    type: 'identify',
    userId,
    traits: { email: `${userId}@example.com`, first_name: userId.toUpperCase() },
  });
  const viewed = (userId: string) => ({
    type: 'track',
    userId,
    event: 'Product Viewed',
    properties: { sku: 'A1' },
  });
  const bought = (userId: string) => ({
    type: 'track',
    userId,
    event: 'Order Completed',
    properties: { revenue: 40 },
  });

  beforeAll(async () => {
    s = await startTestServer(engine, {}, { delivery: { pollMs: 100, closeGraceMs: 200 }, syncPollMs: 100 });
    receiver = await startWebhookReceiver();
    writeKey = (await s.createSource('web', 'events')).writeKey;
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });

  it('sends every member first, then the adds and removes, ending with exactly the current members', async () => {
    // zed viewed and bought before the segment exists (so the language knows both events).
    await track(['ann', 'bob', 'cid', 'dee', 'zed'].map(person));
    await track([viewed('ann'), viewed('bob'), viewed('bob'), viewed('zed'), bought('zed')]);
    const segment = await api<{ id: string }>(s, '/segments', {
      method: 'POST',
      body: BROWSERS,
      status: 201,
    });
    const destination = await createWebhookDestination(s, receiver, { batchSize: 2 });
    const sync = await api<{ id: string; fields: Record<string, string> }>(s, '/syncs', {
      method: 'POST',
      status: 201,
      body: {
        name: 'browsers to crm',
        segmentId: segment.id,
        destinationId: destination.id,
        fields: { profile_id: 'profile_id', email: 'identifier:email', first_name: 'first_name' },
      },
    });
    expect(sync.fields).toEqual({
      profile_id: 'profile_id',
      email: 'identifier:email',
      first_name: 'first_name',
    });

    const members = async () =>
      (await api<{ members: { profileId: string }[] }>(s, `/segments/${segment.id}/members`)).members
        .map((m) => m.profileId)
        .sort();
    const inStep = async (what: string) => {
      const want = await members();
      await eventually(what, () =>
        JSON.stringify(receiver.audience('profile_id')) === JSON.stringify(want) ? true : undefined,
      );
      return want;
    };
    expect(await inStep('the first full sync')).toHaveLength(2);

    // A stream of events: cid and dee enter, bob buys and leaves, dee buys too, then ann views again.
    await track([viewed('cid')]);
    await track([viewed('dee'), bought('bob')]);
    await track([bought('dee'), viewed('ann')]);
    const final = await inStep('the adds and removes');
    expect(final).toHaveLength(2);

    // Removes went out as removes, and each record carries the mapped email.
    const messages = receiver
      .messages()
      .map(
        (m) =>
          m.body as { type: string; records: { profile_id: string; email: string; first_name: string }[] },
      );
    expect(messages.some((m) => m.type === 'audience.remove')).toBe(true);
    for (const m of messages) {
      for (const r of m.records) {
        const name = r.email.split('@')[0]!;
        expect(r.email).toMatch(/^(ann|bob|cid|dee)@example\.com$/);
        expect(r.first_name).toBe(name.toUpperCase());
      }
    }
    // Without a mapping, the destination's default fields: email comes from the identity graph.
    const defaults = await api<{ fields: Record<string, string> }>(s, '/syncs', {
      method: 'POST',
      status: 201,
      body: { name: 'default fields', segmentId: segment.id, destinationId: destination.id },
    });
    expect(defaults.fields).toEqual({ profile_id: 'profile_id', email: 'identifier:email' });

    // The segment cannot be deleted while the sync sends it.
    const deleting = await fetch(`${s.url}/api/segments/${segment.id}`, {
      method: 'DELETE',
      headers: s.admin,
    });
    expect(deleting.status).toBe(400);
    expect(await deleting.text()).toMatch(/sent by an audience sync/);
    const shown = await api<{ cursor: number; lastError?: string }>(s, `/syncs/${sync.id}`);
    expect(shown.cursor).toBeGreaterThan(0);
    expect(shown.lastError).toBeUndefined();
  });

  it('refuses a sync to an unknown segment or a destination that cannot remove people, naming the field', async () => {
    const res = await fetch(`${s.url}/api/syncs`, {
      method: 'POST',
      headers: s.admin,
      body: JSON.stringify({ name: 'nowhere', segmentId: 'seg_nope', destinationId: 'dst_nope' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { issues: { path: string[] }[] };
    expect(body.issues.map((i) => i.path.join('.'))).toEqual(['body.segmentId', 'body.destinationId']);

    const folder = await api<{ id: string }>(s, '/destinations', {
      method: 'POST',
      status: 201,
      body: { name: 'exports', connector: 'folder', config: { path: tmpdir() } },
    });
    const segment = (await api<{ segments: { id: string }[] }>(s, '/segments')).segments[0]!;
    const files = await fetch(`${s.url}/api/syncs`, {
      method: 'POST',
      headers: s.admin,
      body: JSON.stringify({ name: 'to files', segmentId: segment.id, destinationId: folder.id }),
    });
    expect(files.status).toBe(400);
    expect(await files.json()).toMatchObject({
      issues: [{ path: ['body', 'destinationId'], message: expect.stringMatching(/cannot remove people/) }],
    });
  });
});
