import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, quickSettings } from '../test-support/delivery.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { basicAuth, postTracking } from '../test-support/tracking.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';

const VIEWERS = { name: 'Viewed a product', condition: { kind: 'event', event: 'Product Viewed' } };

interface SyncView {
  id: string;
  lastError?: string;
  suppressed: { total: number; reasons: Record<string, number> };
  lastStep?: { withdrawn: number; regranted: number; suppressed: Record<string, number> };
}

describe.each(ENGINES)('audience sync governance on %s', (engine) => {
  let s: TestServer;
  let receiver: WebhookReceiver;
  let writeKey: string;
  let clock = Date.parse('2026-04-01T10:00:00Z');
  const track = async (batch: unknown[]) => {
    const res = await postTracking(s, 'batch', { batch }, { Authorization: basicAuth(writeKey) });
    expect(res.status).toBe(200);
    await s.app.identity.settle();
    await s.app.segments.settle();
  };
  // Each call a minute after the last, so statements have distinct times.
  const nextMinute = () => {
    clock += 60_000;
    return new Date(clock).toISOString();
  };
  const identify = (userId: string, extra: Record<string, unknown> = {}) => ({
    type: 'identify',
    userId,
    timestamp: nextMinute(),
    traits: { email: `${userId}@example.com`, first_name: userId.toUpperCase() },
    ...extra,
  });
  const consent = (userId: string, email: boolean) => identify(userId, { context: { consent: { email } } });
  const viewed = (userId: string) => ({ type: 'track', userId, event: 'Product Viewed' });
  const destination = (name: string, extra: Record<string, unknown>) =>
    api<{ id: string; purpose?: string; marketingActions: string[] }>(s, '/destinations', {
      method: 'POST',
      status: 201,
      body: {
        name,
        connector: 'webhook',
        config: { url: receiver.url, secret: receiver.secret, batchSize: 100, timeoutMs: 60_000 },
        settings: quickSettings(),
        ...extra,
      },
    });
  const emailsSentTo = (activationId: string) =>
    receiver
      .messages()
      .filter((m) => m.body.activation?.id === activationId)
      .flatMap((m) => (m.body.records as { email?: string }[]).map((r) => r.email));
  const profileOf = async (userId: string) =>
    (await api<{ profiles: { id: string }[] }>(s, `/profiles?identifier=user_id:${userId}`)).profiles[0]!.id;

  beforeAll(async () => {
    s = await startTestServer(engine, {}, { delivery: { pollMs: 100, closeGraceMs: 200 }, syncPollMs: 100 });
    receiver = await startWebhookReceiver();
    writeKey = (await s.createSource('web', 'events')).writeKey;
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });

  it('never sends members without consent, removes one who withdraws, and sends them again when they grant it', async () => {
    // ann and dee grant email (context.consent, an identify trait); cid refused; bob said nothing.
    await track([
      consent('ann', true),
      identify('bob'),
      consent('cid', false),
      identify('dee', { traits: { email: 'dee@example.com', first_name: 'DEE', consent_email: 'yes' } }),
    ]);
    await track(['ann', 'bob', 'cid', 'dee'].map(viewed));
    const segment = await api<{ id: string }>(s, '/segments', { method: 'POST', body: VIEWERS, status: 201 });
    const crm = await destination('crm mails', { purpose: 'email', marketingActions: ['email-marketing'] });
    expect(crm).toMatchObject({ purpose: 'email', marketingActions: ['email-marketing'] });
    const sync = await api<SyncView>(s, '/syncs', {
      method: 'POST',
      status: 201,
      body: {
        name: 'viewers by email',
        segmentId: segment.id,
        destinationId: crm.id,
        fields: { profile_id: 'profile_id', email: 'identifier:email' },
      },
    });
    const [ann, cid, dee] = await Promise.all(['ann', 'cid', 'dee'].map(profileOf));
    const inStep = (what: string, want: string[]) =>
      eventually(what, () =>
        JSON.stringify(receiver.audience('profile_id')) === JSON.stringify([...want].sort())
          ? true
          : undefined,
      );
    await inStep('the first full sync, without bob and cid', [ann!, dee!]);
    const first = await api<SyncView>(s, `/syncs/${sync.id}`);
    expect(first.suppressed).toEqual({
      total: 2,
      reasons: { 'no_consent:email': 1, 'withdrawn:email': 1 },
    });

    // ann withdraws while still a member: the sync removes her.
    await track([consent('ann', false)]);
    await inStep('ann removed after her withdrawal', [dee!]);
    expect(receiver.messages().some((m) => m.body.type === 'audience.remove')).toBe(true);
    const afterWithdrawal = await api<SyncView>(s, `/syncs/${sync.id}`);
    expect(afterWithdrawal.lastStep).toMatchObject({ withdrawn: 1, suppressed: { 'withdrawn:email': 1 } });

    // cid grants, ann grants again, and eve (no consent) views: cid and ann are sent, eve is not.
    await track([consent('cid', true), consent('ann', true), identify('eve'), viewed('eve')]);
    await inStep('cid and ann sent after granting', [ann!, cid!, dee!]);
    // eve's entry may come a step after the others: wait until she is held back too.
    const final = await eventually('eve held back', async () => {
      const view = await api<SyncView>(s, `/syncs/${sync.id}`);
      return view.suppressed.total === 2 ? view : undefined;
    });
    expect(final.lastError).toBeUndefined();
    expect(final.suppressed).toEqual({ total: 2, reasons: { 'no_consent:email': 2 } });

    // Whatever was sent, bob and eve never were, and nobody's refusal was sent before they granted.
    const emails = emailsSentTo(sync.id);
    expect(emails).not.toContain('bob@example.com');
    expect(emails).not.toContain('eve@example.com');
    expect(emails.filter((e) => e === 'cid@example.com')).toHaveLength(1);
    const profile = await api<{ consent: Record<string, { granted: boolean; source: string }> }>(
      s,
      `/profiles/${ann}`,
    );
    expect(profile.consent.email).toMatchObject({ granted: true, source: 'web', via: 'event' });
  });

  it('refuses a sync whose fields a policy forbids, naming attribute, label, destination and policy', async () => {
    await track([identify('gus'), viewed('gus')]);
    const segment = await api<{ id: string }>(s, '/segments', {
      method: 'POST',
      body: { ...VIEWERS, name: 'Viewed a product, for ads' },
      status: 201,
    });
    await api(s, '/labels/identifier:email', { method: 'PUT', body: { labels: ['PII', 'contact'] } });
    const policy = await api<{ id: string }>(s, '/policies', {
      method: 'POST',
      status: 201,
      body: { name: 'No PII to ads', labels: ['pii'], marketingActions: ['advertising'] },
    });
    const meta = await destination('Meta ads', { marketingActions: ['advertising', 'export'] });
    const refused = await fetch(`${s.url}/api/syncs`, {
      method: 'POST',
      headers: s.admin,
      body: JSON.stringify({
        name: 'viewers to ads',
        segmentId: segment.id,
        destinationId: meta.id,
        fields: { profile_id: 'profile_id', hashed: 'identifier:email' },
      }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      code: 'invalid_input',
      issues: [
        {
          code: 'policy_violation',
          path: ['body', 'fields', 'hashed'],
          message: 'identifier:email (label pii) may not go to Meta ads (advertising): policy No PII to ads',
        },
      ],
    });
    // Without a mapping, the destination's default fields (email among them) are checked the same.
    const defaults = await fetch(`${s.url}/api/syncs`, {
      method: 'POST',
      headers: s.admin,
      body: JSON.stringify({ name: 'defaults to ads', segmentId: segment.id, destinationId: meta.id }),
    });
    expect(defaults.status).toBe(400);

    // A disabled policy forbids nothing.
    await api(s, `/policies/${policy.id}`, { method: 'PATCH', body: { enabled: false } });
    const allowed = await api<SyncView>(s, '/syncs', {
      method: 'POST',
      status: 201,
      body: { name: 'viewers to ads', segmentId: segment.id, destinationId: meta.id },
    });
    await eventually('the allowed sync sending', () =>
      emailsSentTo(allowed.id).length > 0 ? true : undefined,
    );

    // The policy comes back: the running sync stops at its next step and sends nothing more.
    await api(s, `/policies/${policy.id}`, { method: 'PATCH', body: { enabled: true } });
    const stopped = await eventually('the sync stopped by the policy', async () => {
      const sync = await api<SyncView>(s, `/syncs/${allowed.id}`);
      return sync.lastError ? sync : undefined;
    });
    expect(stopped.lastError).toContain(
      'identifier:email (label pii) may not go to Meta ads (advertising): policy No PII to ads',
    );
    const sentBefore = emailsSentTo(allowed.id).length;
    await track([identify('fay', { context: { consent: { email: true } } }), viewed('fay')]);
    await s.app.syncs.step();
    await new Promise((r) => setTimeout(r, 500));
    expect(emailsSentTo(allowed.id)).toHaveLength(sentBefore);
    expect(emailsSentTo(allowed.id)).not.toContain('fay@example.com');

    // The destination stops being used for ads: the sync goes on, fay included.
    await api(s, `/destinations/${meta.id}`, { method: 'PUT', body: { marketingActions: ['export'] } });
    await eventually('fay sent once the destination is no ad platform', () =>
      emailsSentTo(allowed.id).includes('fay@example.com') ? true : undefined,
    );
    expect((await api<SyncView>(s, `/syncs/${allowed.id}`)).lastError).toBeUndefined();
  });

  it('validates governance input, each issue naming its field', async () => {
    const bad = async (path: string, method: string, body: unknown) => {
      const res = await fetch(`${s.url}/api${path}`, {
        method,
        headers: s.admin,
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      return ((await res.json()) as { issues: { path: (string | number)[] }[] }).issues.map((i) =>
        i.path.join('.'),
      );
    };
    expect(
      await bad('/policies', 'POST', { name: '', labels: [], marketingActions: ['ads', 'Not An Action'] }),
    ).toEqual(['body.name', 'body.labels', 'body.marketingActions.1']);
    expect(await bad('/labels/email', 'PUT', { labels: ['ok', 'no spaces'] })).toEqual(['body.labels.1']);
    expect(await bad('/labels/a:b:c', 'PUT', { labels: ['pii'] })).toEqual(['params.attribute']);
    expect(
      await bad('/destinations', 'POST', {
        name: 'bad purpose',
        connector: 'webhook',
        config: { url: receiver.url, secret: receiver.secret },
        purpose: 'e mail',
        marketingActions: [''],
      }),
    ).toEqual(['body.purpose', 'body.marketingActions.0']);

    const d = await destination('purpose kept', { purpose: 'SMS' });
    expect(d.purpose).toBe('sms');
    const renamed = await api<{ purpose?: string }>(s, `/destinations/${d.id}`, {
      method: 'PUT',
      body: { name: 'purpose still kept' },
    });
    expect(renamed.purpose).toBe('sms');
    const cleared = await api<{ purpose?: string }>(s, `/destinations/${d.id}`, {
      method: 'PUT',
      body: { purpose: null },
    });
    expect(cleared.purpose).toBeUndefined();
    // A change that does not mention `enabled` leaves a disabled destination disabled.
    await api(s, `/destinations/${d.id}`, { method: 'PUT', body: { enabled: false } });
    const stillOff = await api<{ enabled: boolean }>(s, `/destinations/${d.id}`, {
      method: 'PUT',
      body: { marketingActions: ['sms-marketing'] },
    });
    expect(stillOff).toMatchObject({ enabled: false, marketingActions: ['sms-marketing'] });
    await api(s, `/destinations/${d.id}`, { method: 'PUT', body: { marketingActions: [] } });
    const listed = await api<{ destinations: { id: string; marketingActions: string[] }[] }>(
      s,
      '/destinations',
    );
    expect(listed.destinations.find((x) => x.id === d.id)?.marketingActions).toEqual([]);
    await api(s, '/labels/trait:lifetime_value', {
      method: 'PUT',
      body: { labels: ['Financial', 'financial'] },
    });
    const labels = await api<{ attributes: { attribute: string; labels: string[] }[] }>(s, '/labels');
    expect(labels.attributes).toContainEqual(
      expect.objectContaining({ attribute: 'trait:lifetime_value', labels: ['financial'] }),
    );
    await api(s, '/labels/trait:lifetime_value', { method: 'PUT', body: { labels: [] } });
    expect(await fetch(`${s.url}/api/labels/trait:lifetime_value`, { headers: s.admin })).toHaveProperty(
      'status',
      404,
    );
  });
});

describe.each(ENGINES)('an audience sync under the contact policy on %s', (engine) => {
  let s: TestServer;
  let receiver: WebhookReceiver;
  let clock = new Date('2026-11-25T13:00:00Z');

  beforeAll(async () => {
    s = await startTestServer(
      engine,
      {},
      {
        delivery: { pollMs: 100, closeGraceMs: 200 },
        syncPollMs: 100,
        now: () => clock,
        manualScheduler: true,
      },
    );
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });

  it('holds back members during their quiet hours and adds them once those end', async () => {
    const writeKey = (await s.createSource('web', 'events')).writeKey;
    const person = (n: number) => ({
      type: 'identify',
      userId: `q${n}`,
      traits: { email: `q${n}@example.com`, time_zone: n < 2 ? 'Asia/Tokyo' : 'America/New_York' },
      context: { consent: { email: true } },
    });
    const batch = [
      ...Array.from({ length: 6 }, (_, n) => person(n)),
      ...Array.from({ length: 6 }, (_, n) => ({ type: 'track', userId: `q${n}`, event: 'Product Viewed' })),
    ];
    expect((await postTracking(s, 'batch', { batch }, { Authorization: basicAuth(writeKey) })).status).toBe(
      200,
    );
    await s.app.identity.settle();
    await s.app.segments.settle();
    await api(s, '/contact-policy', {
      method: 'PUT',
      body: { quietHours: { start: '21:00', end: '08:00' } },
    });
    const segment = await api<{ id: string }>(s, '/segments', { method: 'POST', body: VIEWERS, status: 201 });
    const destination = await api<{ id: string }>(s, '/destinations', {
      method: 'POST',
      status: 201,
      body: {
        name: 'mails',
        connector: 'webhook',
        purpose: 'email',
        config: { url: receiver.url, secret: receiver.secret, batchSize: 100, timeoutMs: 60_000 },
        settings: quickSettings(),
      },
    });
    const sync = await api<SyncView>(s, '/syncs', {
      method: 'POST',
      status: 201,
      body: {
        name: 'viewers',
        segmentId: segment.id,
        destinationId: destination.id,
        fields: { email: 'identifier:email' },
      },
    });
    // 13:00 UTC: 22:00 in Tokyo (quiet), 08:00 in New York.
    const emails = (n: number[]) => n.map((i) => `q${i}@example.com`).sort();
    await eventually('New York sent', () =>
      JSON.stringify(receiver.audience('email')) === JSON.stringify(emails([2, 3, 4, 5])) ? true : undefined,
    );
    expect((await api<SyncView>(s, `/syncs/${sync.id}`)).suppressed).toEqual({
      total: 2,
      reasons: { quiet_hours: 2 },
    });
    // 00:30 UTC the next day: 09:30 in Tokyo; the held-back members are tried again and sent.
    clock = new Date('2026-11-26T00:30:00Z');
    await eventually('Tokyo sent after its quiet hours', () =>
      JSON.stringify(receiver.audience('email')) === JSON.stringify(emails([0, 1, 2, 3, 4, 5]))
        ? true
        : undefined,
    );
    expect((await api<SyncView>(s, `/syncs/${sync.id}`)).suppressed.total).toBe(0);
  });
});
