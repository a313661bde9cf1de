import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  api,
  createWebhookDestination,
  enqueue,
  eventually,
  people,
  quickSettings,
} from '../test-support/delivery.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';

interface DeliveryView {
  id: string;
  status: string;
  attempts: number;
  rows: number;
  lastError: string | null;
  receipt: { sent: number; accepted: number; rejected: number; attemptMs: number } | null;
}
interface DeliveryDetail extends DeliveryView {
  finishedAt: string | null;
  attemptLog: {
    attempt: number;
    startedAt: string;
    outcome: string;
    status: number | null;
    error: string | null;
  }[];
}

const listOf = async (server: TestServer, query: string) =>
  (await api<{ deliveries: DeliveryView[] }>(server, `/deliveries?${query}`)).deliveries;

describe.each(ENGINES)('the outbox on %s', (engine) => {
  let server: TestServer;
  const receivers: WebhookReceiver[] = [];
  const receiver = async () => {
    const r = await startWebhookReceiver();
    receivers.push(r);
    return r;
  };

  beforeEach(async () => {
    server = await startTestServer(engine, {}, { delivery: { pollMs: 100, closeGraceMs: 200 } });
  });
  afterEach(async () => {
    await server.close();
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  it('retries a destination that answers 500 several times, then delivers everything exactly once', async () => {
    const hook = await receiver();
    hook.respond((attempt) => (attempt <= 4 ? { status: 500 } : undefined));
    const destination = await createWebhookDestination(server, hook, { batchSize: 100 });
    const enqueued = await enqueue(server.app.delivery.outbox, destination.id, people(1000));
    expect(enqueued.deliveryIds).toHaveLength(10);

    await eventually('every delivery delivered', async () => {
      const list = await listOf(server, `destination=${destination.id}&status=delivered`);
      return list.length === 10 ? list : undefined;
    });
    expect(hook.recordsReceived()).toBe(1000);
    expect(hook.audience('profile_id')).toEqual(people(1000).map((p) => p.profile_id));
    expect(hook.attempts().filter((a) => a.status === 500)).toHaveLength(4);
    // Nothing was sent twice: one accepted request per delivery.
    expect(hook.attempts().filter((a) => a.status === 200)).toHaveLength(10);

    const first = await api<DeliveryDetail>(
      server,
      `/deliveries/${encodeURIComponent(enqueued.deliveryIds[0]!)}`,
    );
    expect(first.attempts).toBe(5);
    expect(first.attemptLog.map((a) => a.outcome)).toEqual(['retry', 'retry', 'retry', 'retry', 'delivered']);
    expect(first.attemptLog[0]!.status).toBe(500);
    expect(first.receipt).toMatchObject({ sent: 100, accepted: 100, rejected: 0 });
  });

  it('waits as long as Retry-After says after a 429', async () => {
    const hook = await receiver();
    hook.respond((attempt) => (attempt === 1 ? { status: 429, headers: { 'Retry-After': '2' } } : undefined));
    const destination = await createWebhookDestination(server, hook);
    await enqueue(server.app.delivery.outbox, destination.id, people(10));
    await eventually('the delivery', () => (hook.recordsReceived() === 10 ? true : undefined));
    const [refused, accepted] = hook.attempts();
    expect(refused!.status).toBe(429);
    expect(accepted!.status).toBe(200);
    // The backoff alone would have retried after about 20 ms.
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(1900);
  });

  it('dead-letters deliveries when the destination stays down past the retry window, and replay delivers them once', async () => {
    const hook = await receiver();
    hook.respond(() => ({ status: 503 }));
    const destination = await createWebhookDestination(server, hook, {
      batchSize: 25,
      settings: quickSettings({ retry: { initialDelayMs: 20, maxDelayMs: 100, windowMs: 2000 } }),
    });
    const { deliveryIds } = await enqueue(server.app.delivery.outbox, destination.id, people(50));
    const [first, second] = deliveryIds.map((d) => encodeURIComponent(d));
    const deadLetters = await eventually('the dead letters', async () => {
      const list = await Promise.all(
        [first, second].map((id) => api<DeliveryDetail>(server, `/deliveries/${id}`)),
      );
      return list.every((d) => d.status === 'dead') ? list : undefined;
    });
    const [head, queued] = deadLetters as [DeliveryDetail, DeliveryDetail];
    expect(head.attempts).toBeGreaterThan(2);
    expect(head.lastError).toMatch(/gave up after \d+ attempts.*503/);
    expect(head.attemptLog.at(-1)!.outcome).toBe('dead');
    // The window runs from the enqueue: the delivery queued behind starts once the head is dead,
    // and is dead-lettered within what is left of the window, not a whole window of its own.
    const queuedStart = Date.parse(queued.attemptLog[0]!.startedAt);
    expect(queuedStart).toBeGreaterThanOrEqual(Date.parse(head.attemptLog.at(-1)!.startedAt));
    expect(Date.parse(queued.finishedAt!) - queuedStart).toBeLessThan(2000);
    expect(await listOf(server, `destination=${destination.id}&status=dead`)).toHaveLength(2);
    expect(hook.recordsReceived()).toBe(0);

    hook.respond(undefined);
    const replayed = await api<DeliveryView>(server, `/deliveries/${first}/replay`, {
      method: 'POST',
      status: 202,
    });
    expect(replayed.status).toBe('pending');
    await eventually('the replayed delivery', async () =>
      (await api<DeliveryView>(server, `/deliveries/${first}`)).status === 'delivered' ? true : undefined,
    );
    expect(hook.recordsReceived()).toBe(25);
    // Replaying a delivery that is not dead is refused; the rest of the destination's dead letters go together.
    const again = await fetch(`${server.url}/api/deliveries/${first}/replay`, {
      method: 'POST',
      headers: server.admin,
    });
    expect(again.status).toBe(409);
    expect(
      await api(server, '/deliveries/replay', {
        method: 'POST',
        status: 202,
        body: { destinationId: destination.id },
      }),
    ).toEqual({ replayed: 1 });
    await eventually('every record', () => (hook.recordsReceived() === 50 ? true : undefined));
    expect(hook.audience('profile_id')).toEqual(people(50).map((p) => p.profile_id));
  });

  it('refuses a delivery the destination rejects for good (4xx) without retrying', async () => {
    const hook = await receiver();
    hook.respond(() => ({ status: 422 }));
    const destination = await createWebhookDestination(server, hook);
    const { deliveryIds } = await enqueue(server.app.delivery.outbox, destination.id, people(5));
    const dead = await eventually('the refusal', async () => {
      const d = await api<DeliveryDetail>(server, `/deliveries/${encodeURIComponent(deliveryIds[0]!)}`);
      return d.status === 'dead' ? d : undefined;
    });
    expect(dead.attempts).toBe(1);
    expect(dead.attemptLog[0]).toMatchObject({ outcome: 'refused', status: 422 });
  });

  it('disables a destination that answers 410 Gone, and resumes when it is enabled again', async () => {
    const hook = await receiver();
    hook.respond(() => ({ status: 410 }));
    const destination = await createWebhookDestination(server, hook);
    await enqueue(server.app.delivery.outbox, destination.id, people(5), { runId: 'run_a' });
    const disabled = await eventually('the destination disabled', async () => {
      const d = await api<{ enabled: boolean; disabledReason: string }>(
        server,
        `/destinations/${destination.id}`,
      );
      return d.enabled ? undefined : d;
    });
    expect(disabled.disabledReason).toMatch(/gone/);
    // Later deliveries wait while it is disabled.
    hook.respond(undefined);
    await enqueue(server.app.delivery.outbox, destination.id, people(5, 100), { runId: 'run_b' });
    await new Promise((r) => setTimeout(r, 400));
    expect(hook.recordsReceived()).toBe(0);
    await api(server, `/destinations/${destination.id}`, { method: 'PUT', body: { enabled: true } });
    await eventually('the waiting delivery', () => (hook.recordsReceived() === 5 ? true : undefined));
    expect(hook.audience('profile_id')).toEqual(people(5, 100).map((p) => p.profile_id));
  });

  it('opens the circuit breaker after repeated failures and makes no attempt while it is open', async () => {
    const hook = await receiver();
    hook.respond(() => ({ status: 500 }));
    const destination = await createWebhookDestination(server, hook, {
      settings: quickSettings({ breakerThreshold: 3, breakerCooldownMs: 60_000 }),
    });
    await enqueue(server.app.delivery.outbox, destination.id, people(5));
    const open = await eventually('the breaker open', async () => {
      const d = await api<{ breaker: { state: string; consecutiveFailures: number } }>(
        server,
        `/destinations/${destination.id}`,
      );
      return d.breaker.state === 'open' ? d.breaker : undefined;
    });
    expect(open.consecutiveFailures).toBe(3);
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.attempts()).toHaveLength(3);
  });

  it('keeps delivering to one destination at full pace while another hangs', async () => {
    const stuck = await receiver();
    stuck.respond(() => ({ status: 200, delayMs: 60_000 }));
    const healthy = await receiver();
    const down = await createWebhookDestination(server, stuck, { name: 'stuck' });
    const up = await createWebhookDestination(server, healthy, { name: 'healthy', batchSize: 50 });
    await enqueue(server.app.delivery.outbox, down.id, people(100));
    await eventually('the stuck destination holding a request', async () =>
      (await listOf(server, `destination=${down.id}&status=sending`)).length === 1 ? true : undefined,
    );
    await enqueue(server.app.delivery.outbox, up.id, people(2000));
    await eventually('the healthy destination', () =>
      healthy.recordsReceived() === 2000 ? true : undefined,
    );
    // The stuck destination's first request is still waiting for an answer.
    expect(stuck.recordsReceived()).toBe(0);
    expect((await listOf(server, `destination=${down.id}&status=sending`)).length).toBe(1);
  });

  it('dead-letters a delivery whose staged rows went missing instead of sending a short batch', async () => {
    const hook = await receiver();
    const destination = await createWebhookDestination(server, hook);
    await api(server, `/destinations/${destination.id}`, { method: 'PUT', body: { enabled: false } });
    const { deliveryIds } = await enqueue(server.app.delivery.outbox, destination.id, people(5));
    // As if the payload were lost (a disk fault beside DuckDB, a deleted row on PostgreSQL).
    if (engine === 'duckdb')
      await rm(join(server.app.config.dataDir, 'outbox'), { recursive: true, force: true });
    else await server.app.store.db.query('DELETE FROM delivery_rows');
    await api(server, `/destinations/${destination.id}`, { method: 'PUT', body: { enabled: true } });
    const dead = await eventually('the dead letter', async () => {
      const d = await api<DeliveryView>(server, `/deliveries/${encodeURIComponent(deliveryIds[0]!)}`);
      return d.status === 'dead' ? d : undefined;
    });
    expect(dead.lastError).toMatch(/should hold 5 rows, but 0 are staged/);
    expect(hook.messages()).toHaveLength(0);
  });

  it('keeps to the rate a destination allows', async () => {
    const hook = await receiver();
    const res = await fetch(`${server.url}/api/destinations`, {
      method: 'POST',
      headers: server.admin,
      body: JSON.stringify({
        name: 'rate limited',
        connector: 'webhook',
        config: { url: hook.url, secret: hook.secret, batchSize: 10, maxRequestsPerSecond: 5 },
      }),
    });
    const destination = (await res.json()) as { id: string; capabilities: { rateLimitPerSecond: number } };
    expect(destination.capabilities.rateLimitPerSecond).toBe(5);
    await enqueue(server.app.delivery.outbox, destination.id, people(60));
    await eventually('the deliveries', () => (hook.recordsReceived() === 60 ? true : undefined));
    const times = hook.attempts().map((a) => a.at);
    // Six requests at 5 per second: the last starts at least a second after the first.
    expect(times).toHaveLength(6);
    expect(times[5]! - times[0]!).toBeGreaterThanOrEqual(950);
  });

  it('sends an enqueued subject once however often it is enqueued, and refuses removals a connector cannot make', async () => {
    const hook = await receiver();
    const destination = await createWebhookDestination(server, hook);
    const first = await enqueue(server.app.delivery.outbox, destination.id, people(250));
    const second = await enqueue(server.app.delivery.outbox, destination.id, people(250));
    expect(second).toEqual({ deliveryIds: first.deliveryIds, rows: 0, created: false });
    await eventually('the deliveries', () => (hook.recordsReceived() === 250 ? true : undefined));
    expect(hook.messages()).toHaveLength(3);
  });
});
