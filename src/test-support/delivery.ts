import { expect } from 'vitest';
import type { DestinationSettings } from '../core/index.js';
import type { DeliveryRecord, DestinationView, EnqueueRequest, Outbox } from '../delivery/index.js';
import type { TestServer } from './server.js';
import type { WebhookReceiver } from './webhook-receiver.js';

/** Retries that fit in a test: tens of milliseconds apart, dead-lettered after `windowMs`. */
export function quickSettings(overrides: Partial<DestinationSettings> = {}): Partial<DestinationSettings> {
  return {
    retry: { initialDelayMs: 20, maxDelayMs: 200, windowMs: 60_000 },
    breakerThreshold: 1000,
    breakerCooldownMs: 1000,
    ...overrides,
  };
}

/** Creates a webhook destination through the API, pointing at `receiver`. */
export async function createWebhookDestination(
  server: TestServer,
  receiver: WebhookReceiver,
  options: { name?: string; batchSize?: number; settings?: Partial<DestinationSettings> } = {},
): Promise<DestinationView> {
  const res = await fetch(`${server.url}/api/destinations`, {
    method: 'POST',
    headers: server.admin,
    body: JSON.stringify({
      name: options.name ?? `hook ${Math.random().toString(36).slice(2, 8)}`,
      connector: 'webhook',
      config: {
        url: receiver.url,
        secret: receiver.secret,
        batchSize: options.batchSize ?? 100,
        timeoutMs: 60_000,
      },
      settings: options.settings ?? quickSettings(),
    }),
  });
  if (res.status !== 201)
    throw new Error(`creating a webhook destination: ${res.status} ${await res.text()}`);
  return (await res.json()) as DestinationView;
}

/** `n` people as rows, numbered from `first`. */
export function people(n: number, first = 0): DeliveryRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    profile_id: `prf_${String(first + i).padStart(6, '0')}`,
    email: `person${first + i}@example.com`,
  }));
}

/** Enqueues rows for one destination as an activation run would. */
export function enqueue(
  outbox: Outbox,
  destinationId: string,
  rows: readonly DeliveryRecord[],
  overrides: Partial<EnqueueRequest> = {},
) {
  return outbox.enqueue({
    destinationId,
    activation: { id: 'cmp_test', name: 'Fault test' },
    runId: 'run_1',
    runAt: new Date('2026-11-01T00:00:00Z'),
    operation: 'add',
    fields: ['profile_id', 'email'],
    rows,
    ...overrides,
  });
}

/** Reads the API as JSON (admin key), failing on anything but `status`. */
export async function api<T = Record<string, unknown>>(
  server: TestServer,
  path: string,
  init: { method?: string; body?: unknown; status?: number } = {},
): Promise<T> {
  const res = await fetch(`${server.url}/api${path}`, {
    method: init.method ?? 'GET',
    headers: server.admin,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  if (res.status !== (init.status ?? 200))
    throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The error `promise` rejects with; the test fails when it resolves, or rejects with anything but a `type`. */
export async function failureOf<E extends Error = Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E = Error as unknown as abstract new (
    ...args: never[]
  ) => E,
): Promise<E> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(type);
  return outcome as E;
}
