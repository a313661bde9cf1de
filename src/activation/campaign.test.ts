import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createWebhookDestination, eventually } from '../test-support/delivery.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { basicAuth, postTracking } from '../test-support/tracking.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';
import { assignmentPoint, groupOf } from './campaign-groups.js';

describe('treatment and control assignment', () => {
  const sub = {
    name: 'all',
    treatments: [
      { name: 'A', percent: 45, destinations: [] },
      { name: 'B', percent: 45, destinations: [] },
    ],
    control: { percent: 10 },
  };

  it('splits 100,000 profiles within statistical tolerance of 45/45/10', () => {
    const counts = { 0: 0, 1: 0, control: 0 } as Record<string, number>;
    const n = 100_000;
    for (let i = 0; i < n; i++) counts[String(groupOf(sub, assignmentPoint('cmp_x', `prf_${i}`)))]! += 1;
    // Chi-square with 2 degrees of freedom: 13.8 is the 0.1% critical value.
    const expected = { 0: 0.45 * n, 1: 0.45 * n, control: 0.1 * n } as Record<string, number>;
    const chi = Object.keys(expected).reduce(
      (sum, k) => sum + (counts[k]! - expected[k]!) ** 2 / expected[k]!,
      0,
    );
    expect(chi).toBeLessThan(13.8);
  });

  it('depends on the campaign and the profile only', () => {
    const a = assignmentPoint('cmp_1', 'prf_1');
    expect(assignmentPoint('cmp_1', 'prf_1')).toBe(a);
    expect(assignmentPoint('cmp_2', 'prf_1')).not.toBe(a);
    // Two campaigns place profiles independently: about 45% of A in one are in A in the other.
    const ids = Array.from({ length: 20_000 }, (_, i) => `prf_${i}`);
    const inA = (c: string) => new Set(ids.filter((p) => groupOf(sub, assignmentPoint(c, p)) === 0));
    const one = inA('cmp_1');
    const both = [...inA('cmp_2')].filter((p) => one.has(p)).length;
    expect(both / one.size).toBeGreaterThan(0.42);
    expect(both / one.size).toBeLessThan(0.48);
  });
});

describe.each(ENGINES)('campaigns on %s', (engine) => {
  let s: TestServer;
  let receiver: WebhookReceiver;
  let writeKey: string;
  let clock = new Date('2026-11-20T09:00:00Z');
  const track = async (batch: unknown[]) => {
    const res = await postTracking(s, 'batch', { batch }, { Authorization: basicAuth(writeKey) });
    expect(res.status).toBe(200);
    await s.app.identity.settle();
    await s.app.segments.settle();
  };
  const person = (n: number, tier: string) => ({
    type: 'identify',
    userId: `u${n}`,
    traits: { email: `u${n}@example.com`, first_name: `F${n}`, tier },
  });
  const tick = async (to: string) => {
    clock = new Date(to);
    await s.app.scheduler.tick();
  };
  const profileOf = async (userId: string) =>
    (await api<{ profiles: { id: string }[] }>(s, `/profiles?identifier=user_id:${userId}`)).profiles[0]!.id;

  beforeAll(async () => {
    s = await startTestServer(
      engine,
      {},
      { delivery: { pollMs: 50, closeGraceMs: 200 }, now: () => clock, manualScheduler: true },
    );
    receiver = await startWebhookReceiver();
    writeKey = (await s.createSource('web', 'events')).writeKey;
  });
  afterAll(async () => {
    await s.close();
    await receiver.close();
  });

  it('refuses to launch with every problem named, then runs: treatments sent, control recorded and never sent', async () => {
    await track(Array.from({ length: 300 }, (_, i) => person(i, i % 3 === 0 ? 'gold' : 'bronze')));
    const everyone = await api<{ id: string }>(s, '/segments', {
      method: 'POST',
      status: 201,
      body: {
        name: 'Everyone named',
        condition: { kind: 'attribute', attribute: 'first_name', test: { operator: 'exists' } },
      },
    });
    const last = await api<{ id: string }>(s, '/segments', {
      method: 'POST',
      status: 201,
      body: {
        name: 'Last ten',
        condition: {
          kind: 'attribute',
          attribute: 'first_name',
          test: { operator: 'in', values: Array.from({ length: 10 }, (_, i) => `F${290 + i}`) },
        },
      },
    });
    const hook = await createWebhookDestination(s, receiver, { name: 'crm hook', batchSize: 500 });

    const draft = await api<{ id: string; status: string }>(s, '/campaigns', {
      method: 'POST',
      status: 201,
      body: {
        name: 'Winter',
        include: ['seg_missing'],
        subAudiences: [
          {
            name: 'Gold',
            treatments: [{ name: 'A', percent: 60, destinations: [{ destinationId: 'dst_nope' }] }],
          },
          {
            name: 'Rest',
            condition: { kind: 'attribute', attribute: 'no_such', test: { operator: 'exists' } },
            treatments: [{ name: 'B', percent: 100, destinations: [] }],
          },
        ],
      },
    });
    expect(draft.status).toBe('draft');
    const refused = await fetch(`${s.url}/api/campaigns/${draft.id}/launch`, {
      method: 'POST',
      headers: s.admin,
    });
    expect(refused.status).toBe(400);
    const { issues } = (await refused.json()) as { issues: { path: (string | number)[] }[] };
    expect(issues.map((i) => i.path.join('.'))).toEqual([
      'include.0',
      'subAudiences.0.condition',
      'subAudiences.0.treatments',
      'subAudiences.0.treatments.0.destinations.0.destinationId',
      'subAudiences.1.condition.attribute',
      'subAudiences.1.treatments.0.destinations',
    ]);

    const definition = {
      name: 'Winter',
      include: [everyone.id],
      exclude: [last.id],
      subAudiences: [
        {
          name: 'Gold',
          condition: { kind: 'attribute', attribute: 'tier', test: { operator: 'equals', value: 'gold' } },
          treatments: [
            {
              name: 'A',
              percent: 45,
              destinations: [
                { destinationId: hook.id, fields: { profile_id: 'profile_id', email: 'identifier:email' } },
              ],
            },
            { name: 'B', percent: 45, destinations: [{ destinationId: hook.id }] },
          ],
          control: { percent: 10 },
        },
        {
          name: 'Everyone else',
          treatments: [{ name: 'All', percent: 90, destinations: [{ destinationId: hook.id }] }],
          control: { percent: 10 },
        },
      ],
      schedule: { kind: 'recurring', cron: '0 9 * * *', timeZone: 'UTC' },
    };
    await api(s, `/campaigns/${draft.id}`, { method: 'PUT', body: definition });
    const launched = await api<{ status: string }>(s, `/campaigns/${draft.id}/launch`, { method: 'POST' });
    expect(launched.status).toBe('scheduled');

    await tick('2026-11-21T09:00:05Z');
    const runs = (
      await api<{ runs: { id: string; status: string; counts: Record<string, unknown> }[] }>(
        s,
        `/campaigns/${draft.id}/runs`,
      )
    ).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe('completed');
    const counts = runs[0]!.counts as {
      qualified: number;
      excluded: number;
      newlyQualified: number;
      subAudiences: { name: string; profiles: number; groups: { name: string; profiles: number }[] }[];
    };
    expect(counts).toMatchObject({ qualified: 300, excluded: 10, newlyQualified: 290 });
    // u0, u3, ... u288 are gold and not among the last ten: 97 of them.
    expect(counts.subAudiences.map((x) => x.profiles)).toEqual([97, 193]);

    const members = async (runId: string, outcome: string) =>
      (
        await api<{ members: { profileId: string; treatment: string }[] }>(
          s,
          `/campaigns/${draft.id}/runs/${encodeURIComponent(runId)}/members?outcome=${outcome}&limit=10000`,
        )
      ).members;
    const sent = await members(runs[0]!.id, 'sent');
    const control = await members(runs[0]!.id, 'control');
    expect(sent.length + control.length).toBe(290);
    expect(control.length).toBeGreaterThan(5);
    await eventually('the treatment groups delivered', () =>
      receiver.audience('profile_id').length === sent.length ? true : undefined,
    );
    const received = new Set(receiver.audience('profile_id'));
    for (const c of control) expect(received.has(c.profileId)).toBe(false);
    expect(received.has(await profileOf('u295'))).toBe(false);

    // The run view counts what the destination accepted, per group.
    // (The receiver may have answered before the receipt is recorded: wait for it.)
    const view = await eventually('the receipts', async () => {
      const v = await api<{ deliveries: { group: string; sent: number }[] }>(
        s,
        `/campaigns/${draft.id}/runs/${encodeURIComponent(runs[0]!.id)}`,
      );
      return v.deliveries.reduce((n, d) => n + d.sent, 0) === sent.length ? v : undefined;
    });
    expect(new Set(view.deliveries.map((d) => d.group))).toEqual(
      new Set(['Gold_A', 'Gold_B', 'Everyone else_All']),
    );

    // Renamed, and its destinations changed: the next run (with new people) keeps every group.
    const groupsBefore = new Map([...sent, ...control].map((m) => [m.profileId, m.treatment]));
    const other = await createWebhookDestination(s, receiver, { name: 'second hook' });
    definition.name = 'Winter renamed';
    definition.subAudiences[1]!.treatments[0]!.destinations = [{ destinationId: other.id }];
    await api(s, `/campaigns/${draft.id}`, { method: 'PUT', body: definition });
    await track(Array.from({ length: 20 }, (_, i) => person(300 + i, 'bronze')));
    await tick('2026-11-22T09:00:05Z');
    const second = (
      await api<{ runs: { id: string; counts: { newlyQualified: number; alreadyHandled: number } }[] }>(
        s,
        `/campaigns/${draft.id}/runs`,
      )
    ).runs[0]!;
    expect(second.counts).toMatchObject({ newlyQualified: 20, alreadyHandled: 290 });
    const secondSent = await members(second.id, 'sent');
    const secondControl = await members(second.id, 'control');
    expect(secondSent.length + secondControl.length).toBe(20);
    for (const m of [...secondSent, ...secondControl]) expect(groupsBefore.has(m.profileId)).toBe(false);
    // Orchestrations read the same run records through their views.
    const fromViews = await api<{ rows: { outcome: string; n: number }[] }>(s, '/orchestrations/preview', {
      method: 'POST',
      body: {
        query: `SELECT m.outcome, count(*) AS n FROM campaign_members m JOIN campaign_runs r ON r.run_id = m.run_id
                WHERE r.campaign_name = 'Winter renamed' GROUP BY m.outcome ORDER BY m.outcome`,
      },
    });
    expect(fromViews.rows.map((r) => [r.outcome, Number(r.n)])).toEqual([
      ['control', control.length + secondControl.length],
      ['sent', sent.length + secondSent.length],
    ]);
    // Everyone leaves (excluded for a run) and comes back after the rename and the destination
    // change: each of the first run's people lands in the group that run gave them.
    const groupsOf = async (runId: string) =>
      new Map(
        [...(await members(runId, 'sent')), ...(await members(runId, 'control'))].map((m) => [
          m.profileId,
          m.treatment,
        ]),
      );
    await api(s, `/campaigns/${draft.id}`, {
      method: 'PUT',
      body: { ...definition, exclude: [last.id, everyone.id] },
    });
    await tick('2026-11-23T09:00:05Z');
    await api(s, `/campaigns/${draft.id}`, { method: 'PUT', body: definition });
    await tick('2026-11-24T09:00:05Z');
    const back = (
      await api<{ runs: { id: string; counts: { newlyQualified: number } }[] }>(
        s,
        `/campaigns/${draft.id}/runs`,
      )
    ).runs[0]!;
    expect(back.counts.newlyQualified).toBe(310);
    const groupsAfter = await groupsOf(back.id);
    for (const [profileId, treatment] of groupsBefore) expect(groupsAfter.get(profileId)).toBe(treatment);
    const status = await api<{ status: string; name: string }>(s, `/campaigns/${draft.id}`);
    expect(status).toMatchObject({ status: 'scheduled', name: 'Winter renamed' });

    // A segment a campaign uses cannot be deleted.
    const deleting = await fetch(`${s.url}/api/segments/${last.id}`, { method: 'DELETE', headers: s.admin });
    expect(deleting.status).toBe(400);
    expect(await deleting.text()).toMatch(/used by campaign Winter renamed/);

    // Paused, a due run does not happen; cancelled, it never will.
    await api(s, `/campaigns/${draft.id}/pause`, { method: 'POST' });
    await tick('2026-11-25T09:00:05Z');
    expect((await api<{ runs: unknown[] }>(s, `/campaigns/${draft.id}/runs`)).runs).toHaveLength(4);
    await api(s, `/campaigns/${draft.id}/cancel`, { method: 'POST' });
    const cancelled = await api<{ status: string }>(s, `/campaigns/${draft.id}`);
    expect(cancelled.status).toBe('cancelled');
  });

  it('sends a campaign once, then completes', async () => {
    const segment = (await api<{ segments: { id: string; name: string }[] }>(s, '/segments')).segments.find(
      (x) => x.name === 'Last ten',
    )!;
    const hook = await createWebhookDestination(s, receiver, { name: 'once hook' });
    const campaign = await api<{ id: string }>(s, '/campaigns', {
      method: 'POST',
      status: 201,
      body: {
        name: 'Once',
        include: [segment.id],
        subAudiences: [
          {
            name: 'All',
            treatments: [{ name: 'T', percent: 100, destinations: [{ destinationId: hook.id }] }],
          },
        ],
        schedule: { kind: 'now' },
      },
    });
    await api(s, `/campaigns/${campaign.id}/launch`, { method: 'POST' });
    await tick('2026-11-26T10:00:00Z');
    expect(await api<{ status: string }>(s, `/campaigns/${campaign.id}`)).toMatchObject({
      status: 'completed',
    });
    const run = (
      await api<{ runs: { counts: { newlyQualified: number } }[] }>(s, `/campaigns/${campaign.id}/runs`)
    ).runs[0]!;
    expect(run.counts.newlyQualified).toBe(10);
    const { activations } = await api<{
      activations: { kind: string; name: string; status: string; counts: Record<string, number> }[];
    }>(s, '/activations?kind=campaign');
    expect(activations.map((a) => [a.name, a.status])).toEqual([
      ['Once', 'completed'],
      ['Winter renamed', 'cancelled'],
    ]);
    expect(activations[0]!.counts).toMatchObject({ newlyQualified: 10 });
    await eventually('the once campaign delivered', async () => {
      const list = await api<{ activations: { name: string; counts: Record<string, number> }[] }>(
        s,
        '/activations',
      );
      return list.activations.find((a) => a.name === 'Once')!.counts.sent === 10 ? true : undefined;
    });
    // Completed, it can be edited and launched again.
    const again = await api<{ status: string }>(s, `/campaigns/${campaign.id}/launch`, { method: 'POST' });
    expect(again.status).toBe('scheduled');
  });

  it('resumes a plan whose sending failed at the next run: each profile sent once', async () => {
    const segment = (await api<{ segments: { id: string; name: string }[] }>(s, '/segments')).segments.find(
      (x) => x.name === 'Last ten',
    )!;
    const hook = await createWebhookDestination(s, receiver, { name: 'flaky outbox hook' });
    const campaign = await api<{ id: string }>(s, '/campaigns', {
      method: 'POST',
      status: 201,
      body: {
        name: 'Resumed',
        include: [segment.id],
        subAudiences: [
          {
            name: 'All',
            treatments: [{ name: 'T', percent: 100, destinations: [{ destinationId: hook.id }] }],
          },
        ],
        schedule: { kind: 'recurring', cron: '0 12 * * *', timeZone: 'UTC' },
      },
    });
    await api(s, `/campaigns/${campaign.id}/launch`, { method: 'POST' });
    // The store fails once while the plan's group is being queued.
    const outbox = s.app.delivery.outbox;
    const enqueue = outbox.enqueue.bind(outbox);
    outbox.enqueue = async (request) => {
      if (request.activation.id !== campaign.id) return enqueue(request);
      outbox.enqueue = enqueue;
      throw new Error('the outbox is unavailable');
    };
    await tick('2026-11-27T12:00:01Z');
    type Run = { id: string; status: string; planned: boolean; counts: { newlyQualified: number } };
    const runs = async () => (await api<{ runs: Run[] }>(s, `/campaigns/${campaign.id}/runs`)).runs;
    expect((await runs())[0]).toMatchObject({
      status: 'failed',
      planned: true,
      counts: { newlyQualified: 10 },
    });
    expect(await api<{ status: string }>(s, `/campaigns/${campaign.id}`)).toMatchObject({ status: 'failed' });

    // The next tick sends the failed run's plan first; its own run finds nobody new.
    await tick('2026-11-28T12:00:01Z');
    const [second, first] = await runs();
    expect(first).toMatchObject({ status: 'completed' });
    expect(second).toMatchObject({ status: 'completed', counts: { newlyQualified: 0 } });
    const sentTo = () =>
      receiver
        .messages()
        .filter((m) => (m.body as { activation?: { id: string } }).activation?.id === campaign.id)
        .flatMap((m) => (m.body as { records: { profile_id: string }[] }).records.map((r) => r.profile_id));
    await eventually('the resumed plan delivered', () => (sentTo().length >= 10 ? true : undefined));
    expect(new Set(sentTo()).size).toBe(10);
    expect(sentTo()).toHaveLength(10);
    // The same due time again is the same, completed run: nothing more.
    await s.app.campaigns.execute(campaign.id, new Date('2026-11-28T12:00:00Z'));
    expect(await runs()).toHaveLength(2);
    await api(s, `/campaigns/${campaign.id}/cancel`, { method: 'POST' });
  });

  it('never saves a campaign that sends a forbidden attribute, and holds back what the contact policy forbids', async () => {
    const consented = (n: number, zone: string) => ({
      type: 'identify',
      userId: `cp${n}`,
      traits: { email: `cp${n}@example.com`, first_name: `CP${n}`, time_zone: zone, cohort: 'cp' },
      context: { consent: { email: true } },
    });
    await track(
      Array.from({ length: 20 }, (_, n) => consented(n, n < 5 ? 'Asia/Tokyo' : 'America/New_York')),
    );
    const cohort = await api<{ id: string }>(s, '/segments', {
      method: 'POST',
      status: 201,
      body: {
        name: 'Contact cohort',
        condition: { kind: 'attribute', attribute: 'cohort', test: { operator: 'equals', value: 'cp' } },
      },
    });
    const ads = await createWebhookDestination(s, receiver, { name: 'ads hook' });
    await api(s, `/destinations/${ads.id}`, {
      method: 'PUT',
      body: { purpose: 'email', marketingActions: ['advertising'] },
    });
    await api(s, '/labels/identifier:email', { method: 'PUT', body: { labels: ['pii'] } });
    await api(s, '/policies', {
      method: 'POST',
      status: 201,
      body: { name: 'No PII to ads', labels: ['pii'], marketingActions: ['advertising'] },
    });
    const body = (fields: Record<string, string>, name: string) => ({
      name,
      include: [cohort.id],
      subAudiences: [
        {
          name: 'All',
          treatments: [{ name: 'T', percent: 100, destinations: [{ destinationId: ads.id, fields }] }],
        },
      ],
      schedule: { kind: 'now' },
    });
    const refused = await fetch(`${s.url}/api/campaigns`, {
      method: 'POST',
      headers: s.admin,
      body: JSON.stringify(body({ id: 'profile_id', em: 'identifier:email' }, 'Leaky')),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      code: 'policy_violation',
      issues: [
        {
          path: ['body', 'subAudiences', 0, 'treatments', 0, 'destinations', 0, 'fields', 'em'],
          message: expect.stringMatching(
            /identifier:email \(label pii\) may not go to ads hook \(advertising\): policy No PII to ads/,
          ),
        },
      ],
    });

    // A campaign saved before a label exists cannot be launched once its field is labelled.
    const named = await api<{ id: string }>(s, '/campaigns', {
      method: 'POST',
      status: 201,
      body: body({ id: 'profile_id', name: 'first_name' }, 'Names to ads'),
    });
    await api(s, '/labels/first_name', { method: 'PUT', body: { labels: ['pii'] } });
    const launch = await fetch(`${s.url}/api/campaigns/${named.id}/launch`, {
      method: 'POST',
      headers: s.admin,
    });
    expect(launch.status).toBe(400);
    expect(await launch.json()).toMatchObject({
      issues: [
        {
          code: 'policy_violation',
          path: ['subAudiences', 0, 'treatments', 0, 'destinations', 0, 'fields', 'name'],
          message: expect.stringMatching(/first_name \(label pii\) may not go to ads hook/),
        },
      ],
    });

    // At most one email a week, and nothing between 21:00 and 08:00 where the profile lives.
    await api(s, '/contact-policy', {
      method: 'PUT',
      body: {
        frequencyCaps: [{ channel: 'email', max: 1, per: { amount: 7, unit: 'days' } }],
        quietHours: { start: '21:00', end: '08:00' },
      },
    });
    type Counts = {
      subAudiences: { groups: { destinations: { queued: number; held: Record<string, number> }[] }[] }[];
    };
    const runOnce = async (name: string, at: string) => {
      const c = await api<{ id: string }>(s, '/campaigns', {
        method: 'POST',
        status: 201,
        body: body({ id: 'profile_id' }, name),
      });
      await api(s, `/campaigns/${c.id}/launch`, { method: 'POST' });
      await tick(at);
      const run = (await api<{ runs: { counts: Counts }[] }>(s, `/campaigns/${c.id}/runs`)).runs[0]!;
      return run.counts.subAudiences[0]!.groups[0]!.destinations[0]!;
    };
    // 13:00 UTC: 22:00 in Tokyo (quiet), 08:00 in New York (quiet hours just ended).
    const first = await runOnce('First touch', '2026-12-02T13:00:00Z');
    expect(first).toMatchObject({ queued: 15, held: { quiet_hours: 5 } });
    // Two days later at 03:00 UTC (12:00 in Tokyo, 22:00 in New York): New York is quiet (and capped: quiet hours are named first).
    const second = await runOnce('Second touch', '2026-12-04T03:00:00Z');
    expect(second).toMatchObject({ queued: 5, held: { quiet_hours: 15 } });
    // 23:30 UTC: 08:30 in Tokyo, 18:30 in New York; everyone had this week's email.
    const third = await runOnce('Third touch', '2026-12-04T23:30:00Z');
    expect(third).toMatchObject({ queued: 0, held: { 'frequency_cap:email:1/7days': 20 } });
    await api(s, '/contact-policy', { method: 'PUT', body: {} });
  });
});
