import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretBox } from '../delivery/index.js';
import { api, createWebhookDestination, enqueue, eventually, people } from '../test-support/delivery.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, TEST_SECRET_KEY, type TestServer } from '../test-support/server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';

describe.each(ENGINES)('the destinations API on %s', (engine) => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  beforeEach(async () => {
    server = await startTestServer(engine, {}, { delivery: { pollMs: 100, closeGraceMs: 200 } });
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await server.close();
    await receiver.close();
  });

  it('lists the connectors with their config schemas, secret fields marked writeOnly', async () => {
    const { connectors } = await api<{
      connectors: {
        id: string;
        secretFields: string[];
        configSchema: { properties: Record<string, { writeOnly?: boolean }> };
      }[];
    }>(server, '/connectors');
    const webhook = connectors.find((c) => c.id === 'webhook')!;
    expect(webhook.secretFields).toEqual(['secret']);
    expect(webhook.configSchema.properties.secret!.writeOnly).toBe(true);
    expect(connectors.map((c) => c.id)).toEqual(
      expect.arrayContaining(['webhook', 'postgres', 'meta-custom-audiences']),
    );
  });

  it('encrypts credentials at rest and never returns them', async () => {
    const created = await createWebhookDestination(server, receiver, { name: 'crm hook' });
    expect(created.secretsSet).toEqual(['secret']);
    expect(JSON.stringify(created)).not.toContain(receiver.secret);
    const shown = await api(server, `/destinations/${created.id}`);
    expect(JSON.stringify(shown)).not.toContain(receiver.secret);
    expect(JSON.stringify(await api(server, '/destinations'))).not.toContain(receiver.secret);

    const [row] = await server.app.store.db.query<{ config: unknown; secrets: string }>(
      'SELECT config, secrets FROM destinations WHERE id = $1',
      [created.id],
    );
    expect(JSON.stringify(row!.config)).not.toContain(receiver.secret);
    expect(row!.secrets).not.toContain(receiver.secret.slice(6, 20));
    expect(new SecretBox(TEST_SECRET_KEY).open(row!.secrets, 'x')).toEqual({ secret: receiver.secret });
    expect(() => new SecretBox('another key entirely, not the one').open(row!.secrets, 'crm hook')).toThrow(
      /cannot be decrypted with this SLUICE_SECRET_KEY/,
    );

    // A change that leaves the secret out keeps it: the test still passes signature checks.
    await api(server, `/destinations/${created.id}`, {
      method: 'PUT',
      body: { config: { url: receiver.url, batchSize: 7 } },
    });
    const tested = await api<{ ok: boolean }>(server, `/destinations/${created.id}/test`, { method: 'POST' });
    expect(tested.ok).toBe(true);
  });

  it('refuses bad input, naming the field', async () => {
    const bad = await fetch(`${server.url}/api/destinations`, {
      method: 'POST',
      headers: server.admin,
      body: JSON.stringify({
        name: 'x',
        connector: 'webhook',
        config: { url: 'ftp://nope', secret: 'plain' },
      }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { issues: { path: string[] }[] };
    expect(body.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['body.config.url', 'body.config.secret']),
    );
    const unknown = await fetch(`${server.url}/api/destinations`, {
      method: 'POST',
      headers: server.admin,
      body: JSON.stringify({ name: 'x', connector: 'carrier-pigeon', config: {} }),
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      message: 'unknown connector "carrier-pigeon"',
      issues: [
        {
          path: ['body', 'connector'],
          message: expect.stringMatching(/must be one of: folder, s3, sftp, webhook, /),
        },
      ],
    });
    await createWebhookDestination(server, receiver, { name: 'taken' });
    const taken = await fetch(`${server.url}/api/destinations`, {
      method: 'POST',
      headers: server.admin,
      body: JSON.stringify({
        name: 'taken',
        connector: 'webhook',
        config: { url: receiver.url, secret: receiver.secret },
      }),
    });
    expect(taken.status).toBe(409);
  });

  it('tests a destination and says what failed, without the secret', async () => {
    const destination = await createWebhookDestination(server, receiver);
    expect(await api(server, `/destinations/${destination.id}/test`, { method: 'POST' })).toMatchObject({
      ok: true,
    });
    receiver.respond(() => ({ status: 401 }));
    const failed = await api<{ ok: boolean; error: { message: string } }>(
      server,
      `/destinations/${destination.id}/test`,
      {
        method: 'POST',
      },
    );
    expect(failed.ok).toBe(false);
    expect(failed.error.message).toMatch(/401/);
    expect(failed.error.message).not.toContain(receiver.secret);
  });

  it('refuses to delete a destination with deliveries to send, and lists deliveries by destination and status', async () => {
    receiver.respond(() => ({ status: 503, headers: { 'Retry-After': '30' } }));
    const destination = await createWebhookDestination(server, receiver);
    await enqueue(server.app.delivery.outbox, destination.id, people(3));
    // After its first attempt the delivery waits 30 s (within its retry window), as the destination asked.
    await eventually('the first attempt', () => (receiver.attempts().length === 1 ? true : undefined));
    await eventually('the delivery back in the queue', async () => {
      const { deliveries } = await api<{ deliveries: { status: string }[] }>(
        server,
        `/deliveries?destination=${destination.id}`,
      );
      return deliveries[0]?.status === 'pending' ? true : undefined;
    });
    const refused = await fetch(`${server.url}/api/destinations/${destination.id}`, {
      method: 'DELETE',
      headers: server.admin,
    });
    expect(refused.status).toBe(409);
    const pending = await api<{ deliveries: { status: string; rows: number }[] }>(
      server,
      `/deliveries?destination=${destination.id}&status=pending`,
    );
    expect(pending.deliveries).toEqual([
      expect.objectContaining({ status: 'pending', rows: 3, attempts: 1 }),
    ]);
    expect(
      (
        await api<{ deliveries: unknown[] }>(
          server,
          `/deliveries?destination=${destination.id}&status=delivered`,
        )
      ).deliveries,
    ).toEqual([]);
    const badStatus = await fetch(`${server.url}/api/deliveries?status=lost`, { headers: server.admin });
    expect(badStatus.status).toBe(400);
  });

  it('needs the admin key: a request without one gets 401', async () => {
    expect((await fetch(`${server.url}/api/destinations`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/deliveries`)).status).toBe(401);
  });
});
