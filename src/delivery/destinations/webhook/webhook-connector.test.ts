import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseOrThrow, UserError } from '../../../core/index.js';
import { batchOf } from '../../../test-support/conformance.js';
import { failureOf } from '../../../test-support/delivery.js';
import {
  newWebhookSecret,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../../test-support/webhook-receiver.js';
import { DeliveryFailure } from '../../connector.js';
import { secretFieldsOf } from '../../secret-fields.js';
import { WebhookConfigSchema } from './webhook-config.js';
import { webhookConnector } from './webhook-connector.js';
import { signWebhook, webhookKey } from './webhook-signature.js';

const rows = [
  { profile_id: 'p1', email: 'ada@example.com', first_name: 'Ada' },
  { profile_id: 'p2', email: 'grace@example.com', first_name: 'Grace' },
  { profile_id: 'p3', email: 'alan@example.com', first_name: null },
];

let receiver: WebhookReceiver;
beforeEach(async () => {
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  await receiver.close();
});

function contextFor(input: Record<string, unknown>) {
  const config = parseOrThrow(WebhookConfigSchema, input, 'webhook config');
  return { config, signal: new AbortController().signal, tempDir: '/tmp' };
}

const ctx = () => contextFor({ url: receiver.url, secret: receiver.secret });

const deliveryFailure = (promise: Promise<unknown>) => failureOf(promise, DeliveryFailure);

describe('webhook signatures', () => {
  it('match what the standardwebhooks package computes for the same message', () => {
    const secret = newWebhookSecret();
    const key = webhookKey(secret)!;
    const at = new Date('2026-03-14T09:30:00Z');
    const body = '{"type":"audience.add","records":[{"email":"é@example.com"}]}';
    expect(signWebhook(key, 'run_1:dst_1:0', at.getTime() / 1000, body)).toBe(
      new Webhook(secret).sign('run_1:dst_1:0', at, body),
    );
  });

  it('accept only whsec_ secrets of 24 to 64 bytes of base64', () => {
    expect(webhookKey(`whsec_${Buffer.alloc(24, 7).toString('base64')}`)).toHaveLength(24);
    expect(webhookKey(Buffer.alloc(24, 7).toString('base64'))).toBeUndefined();
    expect(webhookKey(`whsec_${Buffer.alloc(8, 7).toString('base64')}`)).toBeUndefined();
    expect(webhookKey(`whsec_${Buffer.alloc(65, 7).toString('base64')}`)).toBeUndefined();
    expect(webhookKey('whsec_not base64 at all!!!!!!!!!!!!!!!!!!')).toBeUndefined();
  });
});

describe('webhook config', () => {
  it('is the schema of the connector, with the secret marked', () => {
    expect(webhookConnector.configSchema).toBe(WebhookConfigSchema);
    expect(secretFieldsOf(WebhookConfigSchema)).toEqual(['secret']);
  });

  it('fills defaults and caps the batch size at 10,000', () => {
    const { config } = contextFor({ url: 'https://hooks.example.com/in', secret: newWebhookSecret() });
    expect(config).toMatchObject({ batchSize: 100, timeoutMs: 30_000 });
    expect(webhookConnector.capabilities(config)).toMatchObject({
      kind: 'records',
      fields: 'any',
      supportsRemovals: true,
      maxBatchSize: 100,
    });
    expect(() =>
      contextFor({ url: 'https://hooks.example.com/in', secret: newWebhookSecret(), batchSize: 10_001 }),
    ).toThrow(/batchSize/);
  });

  it('says what a secret must look like, without echoing it', () => {
    const attempt = () => contextFor({ url: 'https://hooks.example.com/in', secret: 'hunter2-not-a-secret' });
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(/at secret: secret must be "whsec_" followed by the base64 encoding of 24 to 64/);
    expect(attempt).not.toThrow(/hunter2/);
  });

  it('refuses non-http URLs and headers Sluice sets itself', () => {
    expect(() => contextFor({ url: 'ftp://hooks.example.com/in', secret: newWebhookSecret() })).toThrow(
      /at url: url must be an http/,
    );
    expect(() =>
      contextFor({
        url: 'https://hooks.example.com/in',
        secret: newWebhookSecret(),
        headers: { 'Webhook-Signature': 'v1,forged' },
      }),
    ).toThrow(/Webhook-Signature is set by Sluice/);
    expect(() =>
      contextFor({
        url: 'https://hooks.example.com/in',
        secret: newWebhookSecret(),
        headers: { 'bad name': 'x' },
      }),
    ).toThrow(/not a valid header name/);
  });
});

describe('webhook delivery', () => {
  it('posts one signed message per batch that an independent verifier accepts', async () => {
    const batch = batchOf(rows, { key: 'run_7:dst_3:2', index: 2, count: 5 });
    const result = await webhookConnector.deliver(ctx(), batch);

    expect(result).toMatchObject({
      accepted: 3,
      rejected: 0,
      detail: { webhookId: 'run_7:dst_3:2', status: 200 },
    });
    expect(receiver.attempts()).toEqual([{ id: 'run_7:dst_3:2', at: expect.any(Number), status: 200 }]);
    const [message] = receiver.messages();
    expect(message?.id).toBe('run_7:dst_3:2');
    expect(message?.body).toEqual({
      type: 'audience.add',
      activation: { id: 'cmp_test', name: 'Spring Sale' },
      runId: 'run_test',
      runAt: '2026-03-14T09:30:00.000Z',
      group: 'Treatment A',
      batch: { index: 2, count: 5, size: 3 },
      fields: ['profile_id', 'email', 'first_name'],
      records: rows,
    });
    expect(receiver.audience('profile_id')).toEqual(['p1', 'p2', 'p3']);
  });

  it('sends removes as audience.remove, so the receiver can take people out', async () => {
    await webhookConnector.deliver(ctx(), batchOf(rows, { key: 'run_1:dst:add:0' }));
    await webhookConnector.deliver(
      ctx(),
      batchOf([{ profile_id: 'p2' }], { key: 'run_2:dst:remove:0', operation: 'remove', group: undefined }),
    );
    expect(receiver.messages().map((m) => [m.body.type, m.body.group])).toEqual([
      ['audience.add', 'Treatment A'],
      ['audience.remove', null],
    ]);
    expect(receiver.audience('profile_id')).toEqual(['p1', 'p3']);
  });

  it('is refused (401) when signed with another secret', async () => {
    const wrong = contextFor({ url: receiver.url, secret: newWebhookSecret() });
    const failure = await deliveryFailure(webhookConnector.deliver(wrong, batchOf(rows)));
    expect(failure.disposition).toBe('refused');
    expect(failure.details.status).toBe(401);
    expect(failure.message).not.toContain(wrong.config.secret);
    expect(receiver.messages()).toEqual([]);
    await expect(webhookConnector.test(wrong)).rejects.toMatchObject({ disposition: 'refused' });
  });

  it('keeps the webhook-id across retries, so the receiver counts the batch once', async () => {
    receiver.respond((attempt) => (attempt === 1 ? { status: 503 } : undefined));
    const batch = batchOf(rows, { key: 'run_9:dst_1:0' });

    const failure = await deliveryFailure(webhookConnector.deliver(ctx(), batch));
    expect(failure).toMatchObject({ disposition: 'retry', details: { status: 503 } });
    await webhookConnector.deliver(ctx(), batch);
    // A resend after success (the outbox lost the receipt in a crash) is answered but not counted.
    await webhookConnector.deliver(ctx(), batch);

    expect(receiver.attempts().map((a) => [a.id, a.status])).toEqual([
      ['run_9:dst_1:0', 503],
      ['run_9:dst_1:0', 200],
      ['run_9:dst_1:0', 200],
    ]);
    expect(receiver.messages()).toHaveLength(1);
    expect(receiver.recordsReceived()).toBe(3);
  });

  it('retries on 500 and on 429, honouring Retry-After', async () => {
    receiver.respond((attempt) =>
      attempt === 1 ? { status: 500 } : { status: 429, headers: { 'retry-after': '7' } },
    );
    expect(await deliveryFailure(webhookConnector.deliver(ctx(), batchOf(rows)))).toMatchObject({
      disposition: 'retry',
      details: { status: 500 },
    });
    expect(await deliveryFailure(webhookConnector.deliver(ctx(), batchOf(rows)))).toMatchObject({
      disposition: 'retry',
      details: { status: 429, retryAfterMs: 7000 },
    });
    expect(receiver.messages()).toEqual([]);
  });

  it('reports 410 as gone, which disables the destination', async () => {
    receiver.respond(() => ({ status: 410 }));
    const failure = await deliveryFailure(webhookConnector.deliver(ctx(), batchOf(rows)));
    expect(failure).toMatchObject({ disposition: 'gone', details: { status: 410 } });
  });

  it('refuses other 4xx answers', async () => {
    receiver.respond(() => ({ status: 422 }));
    const failure = await deliveryFailure(webhookConnector.deliver(ctx(), batchOf(rows)));
    expect(failure).toMatchObject({ disposition: 'refused', details: { status: 422 } });
  });

  it('retries when nothing listens or the connection drops', async () => {
    receiver.respond(() => ({ status: 0 }));
    expect((await deliveryFailure(webhookConnector.deliver(ctx(), batchOf(rows)))).disposition).toBe('retry');

    const closed = await startWebhookReceiver();
    await closed.close();
    const failure = await deliveryFailure(
      webhookConnector.deliver(contextFor({ url: closed.url, secret: closed.secret }), batchOf(rows)),
    );
    expect(failure.disposition).toBe('retry');
    expect(failure.message).toMatch(/ECONNREFUSED/);
  });

  it('retries a receiver too slow to answer, and the resend is not counted twice', async () => {
    receiver.respond((attempt) => (attempt === 1 ? { status: 200, delayMs: 1500 } : undefined));
    const slow = contextFor({ url: receiver.url, secret: receiver.secret, timeoutMs: 200 });
    const batch = batchOf(rows, { key: 'run_slow:dst:0' });

    const failure = await deliveryFailure(webhookConnector.deliver(slow, batch));
    expect(failure.message).toMatch(/no answer within 200 ms/);
    // The receiver still processes the first request after the sender gave up on it.
    await expect.poll(() => receiver.messages().length, { timeout: 5000 }).toBe(1);
    await webhookConnector.deliver(slow, batch);
    expect(receiver.messages()).toHaveLength(1);
    expect(receiver.recordsReceived()).toBe(3);
  });

  it('tests the endpoint with a signed sluice.test message', async () => {
    await webhookConnector.test(ctx());
    expect(receiver.messages().map((m) => m.body.type)).toEqual(['sluice.test']);
    expect(receiver.recordsReceived()).toBe(0);
    receiver.respond(() => ({ status: 404 }));
    await expect(webhookConnector.test(ctx())).rejects.toMatchObject({ disposition: 'refused' });
  });
});
