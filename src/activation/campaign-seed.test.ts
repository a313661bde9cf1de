import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemo } from '../demo/index.js';
import { api, eventually } from '../test-support/delivery.js';
import { ENGINES } from '../test-support/engines.js';
import { type S3TestServer, startS3Server } from '../test-support/s3-server.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { basicAuth, postTracking } from '../test-support/tracking.js';

/**
 * The seed's "Send audiences to Amazon S3" campaign (../shared/seeds/amperity-send-to-s3.txt), end
 * to end on the demo workspace: include and exclude segments, two sub-audiences, treatments 45/45
 * with a 10% control, an S3 destination whose default attributes are the seed's list (Sluice's
 * profile id in place of amperity_id), recurring daily on a controllable clock.
 */
const DEMO = { seed: 7, customers: 1500, days: 60, now: new Date('2026-11-19T00:00:00Z') };
const SEED_ATTRIBUTES = {
  profile_id: 'profile_id',
  email: 'identifier:email',
  given_name: 'first_name',
  surname: 'last_name',
  address: 'address',
  address2: 'address2',
  state: 'state',
  city: 'city',
  postal: 'postal_code',
  country: 'country',
};

/**
 * What the demo's own records say of each email's owner's email consent, independently of Sluice.
 * Emails a family shares are left out (two owners may say different things).
 */
async function demoEmailConsent(): Promise<Map<string, boolean>> {
  const said = new Map<string, Set<boolean>>();
  await generateDemo(DEMO, async (batch) => {
    for (const r of batch.records) {
      const consent = r.attributes.consent_email;
      for (const email of r.identifiers.email ?? []) {
        const values = said.get(email.trim().toLowerCase()) ?? new Set<boolean>();
        said.set(email.trim().toLowerCase(), values);
        if (r.note === 'shared_email') values.add(true).add(false);
        else if (typeof consent === 'boolean') values.add(consent);
      }
    }
  });
  return new Map([...said].filter(([, v]) => v.size === 1).map(([email, v]) => [email, [...v][0]!]));
}

describe.each(ENGINES)('the seed S3 campaign on %s', (engine) => {
  let s: TestServer;
  let s3: S3TestServer;
  let clock = new Date('2026-11-20T05:00:00Z');
  const bucket = `seed-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.bucket(bucket);
    s = await startTestServer(
      engine,
      { demo: true },
      { demo: DEMO, delivery: { pollMs: 50, closeGraceMs: 200 }, now: () => clock, manualScheduler: true },
    );
  });
  afterAll(async () => {
    await s?.close();
    await s3?.close();
  });

  /** Every data file in the bucket, by key, as rows. */
  const files = async () => {
    const client = s3.client();
    try {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'campaigns/' }));
      const out = new Map<string, Record<string, string>[]>();
      for (const o of listed.Contents ?? []) {
        const body = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
        out.set(o.Key!, parse(await body.Body!.transformToString(), { columns: true }));
      }
      return out;
    } finally {
      client.destroy();
    }
  };

  it('sends the treatment groups of both sub-audiences, never the control group or anyone without consent, and then only the newly qualified', async () => {
    const segments = (await api<{ segments: { id: string; name: string }[] }>(s, '/segments')).segments;
    const lapsed = segments.find((x) => x.name === 'Lapsed buyers')!;
    const buyers = await api<{ id: string }>(s, '/segments', {
      method: 'POST',
      status: 201,
      body: { name: 'Buyers', condition: { kind: 'event', event: 'Order Completed' } },
    });
    const destination = await api<{ id: string }>(s, '/destinations', {
      method: 'POST',
      status: 201,
      body: {
        name: 'Amazon S3',
        connector: 's3',
        purpose: 'email',
        marketingActions: ['email-marketing'],
        config: {
          bucket,
          prefix: 'campaigns',
          endpoint: s3.endpoint,
          forcePathStyle: true,
          accessKeyId: s3.accessKeyId,
          secretAccessKey: s3.secretAccessKey,
          format: 'csv',
        },
      },
    });
    await api(s, `/destinations/${destination.id}/default-attributes`, {
      method: 'PUT',
      body: { fields: SEED_ATTRIBUTES },
    });
    const groups = [
      { name: 'Treatment A', percent: 45, destinations: [{ destinationId: destination.id }] },
      { name: 'Treatment B', percent: 45, destinations: [{ destinationId: destination.id }] },
    ];
    const campaign = await api<{ id: string }>(s, '/campaigns', {
      method: 'POST',
      status: 201,
      body: {
        name: 'ACME Winback',
        include: [buyers.id],
        exclude: [lapsed.id],
        subAudiences: [
          {
            name: 'Loyal',
            condition: {
              kind: 'attribute',
              attribute: 'tier',
              test: { operator: 'in', values: ['gold', 'platinum'] },
            },
            treatments: groups,
            control: { percent: 10 },
          },
          { name: 'Everyone else', treatments: groups, control: { percent: 10 } },
        ],
        launchDate: '2026-11-20',
        schedule: { kind: 'recurring', cron: '0 6 * * *', timeZone: 'UTC' },
      },
    });
    await api(s, `/campaigns/${campaign.id}/launch`, { method: 'POST' });

    type Run = { id: string; status: string; counts: Record<string, unknown>; error?: string };
    const runAt = async (time: string): Promise<Run> => {
      clock = new Date(time);
      expect(await s.app.scheduler.tick()).toBe(1);
      const run = (await api<{ runs: Run[] }>(s, `/campaigns/${campaign.id}/runs`)).runs[0]!;
      expect(run.status, run.error).toBe('completed');
      return run;
    };
    const members = async (run: Run, outcome: string) =>
      (
        await api<{ members: { profileId: string }[] }>(
          s,
          `/campaigns/${campaign.id}/runs/${encodeURIComponent(run.id)}/members?outcome=${outcome}&limit=10000`,
        )
      ).members.map((m) => m.profileId);
    /** The files of a run's day once they hold every row the run sent. */
    const filesOf = async (run: Run, day: string) => {
      const want = (await members(run, 'sent')).length;
      return eventually(`run ${run.id} in S3`, async () => {
        const ofDay = new Map([...(await files())].filter(([key]) => key.includes(day)));
        return [...ofDay.values()].flat().length === want && ofDay.size === 4 ? ofDay : undefined;
      });
    };

    const first = await runAt('2026-11-20T06:00:01Z');
    const counts = first.counts as {
      excluded: number;
      newlyQualified: number;
      subAudiences: { profiles: number }[];
    };
    expect(counts.excluded).toBeGreaterThan(0);
    expect(counts.subAudiences.every((x) => x.profiles > 0)).toBe(true);
    const firstFiles = await filesOf(first, '2026-11-20');
    const keys = [...firstFiles.keys()];
    // One file per sub-audience and treatment group, each named after the campaign.
    expect(keys).toHaveLength(4);
    for (const key of keys)
      expect(key).toMatch(/^campaigns\/ACME Winback_(Loyal|Everyone else)_Treatment [AB]_2026-11-20\.csv$/);
    const firstRows = [...firstFiles.values()].flat();
    expect(Object.keys(firstRows[0]!)).toEqual(Object.keys(SEED_ATTRIBUTES));
    const control = new Set(await members(first, 'control'));
    const suppressed = await members(first, 'suppressed');
    expect(control.size).toBeGreaterThan(0);
    expect(suppressed.length).toBeGreaterThan(0);
    const consent = await demoEmailConsent();
    let checked = 0;
    for (const row of firstRows) {
      expect(control.has(row.profile_id!)).toBe(false);
      const said = consent.get(row.email!);
      if (said !== undefined) {
        expect(said, `${row.email} never consented to email`).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(firstRows.length * 0.8);
    expect(new Set(firstRows.map((r) => r.profile_id)).size).toBe((await members(first, 'sent')).length);

    // New buyers arrive: one with email consent, one who refused it.
    const writeKey = (await s.createSource('web shop', 'events')).writeKey;
    const buyer = (n: number, granted: boolean) => [
      {
        type: 'identify',
        userId: `new-${n}`,
        traits: { email: `new-buyer-${n}@example.com`, first_name: `New${n}` },
        context: { consent: { email: granted } },
        timestamp: '2026-11-20T12:00:00Z',
      },
      {
        type: 'track',
        userId: `new-${n}`,
        event: 'Order Completed',
        properties: { revenue: 50 },
        timestamp: new Date().toISOString(),
      },
    ];
    const batch = Array.from({ length: 40 }, (_, n) => buyer(n, n % 2 === 0)).flat();
    expect((await postTracking(s, 'batch', { batch }, { Authorization: basicAuth(writeKey) })).status).toBe(
      200,
    );
    await s.app.identity.settle();
    await s.app.segments.settle();

    const second = await runAt('2026-11-21T06:00:01Z');
    // The 40 new buyers are newly qualified; those suppressed yesterday are tried again (and still suppressed).
    expect(second.counts).toMatchObject({ newlyQualified: 40, retried: new Set(suppressed).size });
    const secondRows = [...(await filesOf(second, '2026-11-21')).values()].flat();
    expect(secondRows.length).toBeGreaterThan(0);
    const firstIds = new Set(firstRows.map((r) => r.profile_id));
    for (const row of secondRows) {
      expect(firstIds.has(row.profile_id)).toBe(false);
      expect(row.email).toMatch(/^new-buyer-\d+@example\.com$/);
      // Only the even ones granted email consent.
      expect(Number(row.email!.match(/\d+/)![0]) % 2).toBe(0);
    }
  });
});
