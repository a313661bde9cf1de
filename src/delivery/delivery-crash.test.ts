import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/index.js';
import { enqueue, eventually, people, quickSettings } from '../test-support/delivery.js';
import { ENGINES } from '../test-support/engines.js';
import {
  freshLocation,
  type Location,
  SPAWN_ADMIN_KEY,
  type SpawnedServer,
  spawnServer,
} from '../test-support/spawn-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';
import { CONNECTORS } from './connectors.js';
import { openDelivery } from './delivery-module.js';

const SECRET_KEY = 'crash_test_secret_key_0123456789';
const ROWS = 3000;
const silent = { info: () => {}, error: () => {} };

describe.each(ENGINES)('a delivery interrupted by SIGKILL on %s', (engine) => {
  let location: Location | undefined;
  let server: SpawnedServer | undefined;
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await server?.kill().catch(() => {});
    await receiver?.close();
    await location?.cleanup();
  });

  it('is sent again after a restart, and the receiver counts every record exactly once', async () => {
    location = await freshLocation(engine);
    receiver = await startWebhookReceiver();
    const arrivals: (string | undefined)[] = [];
    // Slow answers, so that the kill lands while a request is in flight.
    receiver.respond((_n, id) => {
      arrivals.push(id);
      return { status: 200, delayMs: 150 };
    });

    // Enqueue as an activation would, with no server running.
    const store = await openStore(location.store);
    const delivery = await openDelivery(store, {
      dataDir: location.store.dataDir,
      secretKey: SECRET_KEY,
      connectors: CONNECTORS,
      log: silent,
      workers: false,
    });
    const destination = await delivery.destinations.create({
      name: 'crash receiver',
      connector: 'webhook',
      config: { url: receiver.url, secret: receiver.secret, batchSize: 100 },
      settings: quickSettings(),
      enabled: true,
    });
    const { deliveryIds } = await enqueue(delivery.outbox, destination.id, people(ROWS));
    expect(deliveryIds).toHaveLength(ROWS / 100);
    await store.close();

    const env = { ...location.env, SLUICE_SECRET_KEY: SECRET_KEY, SLUICE_DELIVERY_LEASE_SECONDS: '2' };
    server = await spawnServer(env);
    await eventually('a few deliveries', () => (arrivals.length >= 6 ? true : undefined), 60_000);
    await server.kill();
    const seenBeforeKill = receiver.messages().length;
    expect(seenBeforeKill).toBeLessThan(ROWS / 100);

    server = await spawnServer(env);
    const delivered = await eventually(
      'every delivery delivered after the restart',
      async () => {
        const res = await fetch(`${server!.url}/api/deliveries?status=delivered&limit=1000`, {
          headers: { Authorization: `Bearer ${SPAWN_ADMIN_KEY}` },
        });
        const { deliveries } = (await res.json()) as { deliveries: unknown[] };
        return deliveries.length === ROWS / 100 ? deliveries : undefined;
      },
      120_000,
    );
    expect(delivered).toHaveLength(ROWS / 100);
    // The request in flight at the kill reached the receiver, was sent again, and counted once.
    expect(arrivals.length).toBeGreaterThan(new Set(arrivals).size);
    expect(receiver.recordsReceived()).toBe(ROWS);
    expect(receiver.audience('profile_id')).toEqual(people(ROWS).map((p) => p.profile_id));
  }, 240_000);
});
