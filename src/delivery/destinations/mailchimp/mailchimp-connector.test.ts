import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchOf } from '../../../test-support/conformance.js';
import {
  type MailchimpServer,
  startMailchimpServer,
} from '../../../test-support/vendors/mailchimp-server.js';
import { DeliveryFailure, type DeliveryRecord } from '../../connector.js';
import { type MailchimpConfig, MailchimpConfigSchema, mailchimpApiRoot } from './mailchimp-config.js';
import { mailchimpConnector } from './mailchimp-connector.js';

const API_KEY = '0123456789abcdef0123456789abcdef-us21';
let server: MailchimpServer;
let config: MailchimpConfig;
const tempDir = mkdtempSync(join(tmpdir(), 'sluice-mailchimp-'));

beforeEach(async () => {
  server = await startMailchimpServer({ apiKey: API_KEY, listId: 'a1b2c3d4e5' });
  config = MailchimpConfigSchema.parse({ apiKey: API_KEY, listId: 'a1b2c3d4e5', baseUrl: server.url });
});
afterEach(() => server.close());

const ctx = (c: MailchimpConfig = config) => ({ config: c, signal: new AbortController().signal, tempDir });
const deliver = (batch: Parameters<typeof mailchimpConnector.deliver>[1]) =>
  mailchimpConnector.deliver(ctx(), batch);
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err as DeliveryFailure,
  );
const people = (n: number, first = 0): DeliveryRecord[] =>
  Array.from({ length: n }, (_, k) => ({
    email: ` Reader${first + k}@Example.com `,
    first_name: 'Ann',
    last_name: 'Lee',
  }));

describe('mailchimpConnector', () => {
  it('subscribes people in one batch call with update_existing and Basic auth', async () => {
    const result = await deliver(batchOf(people(2)));

    expect(result).toMatchObject({ accepted: 2, rejected: 0, rejections: [] });
    const request = server.requests[0]!;
    expect(request).toMatchObject({ method: 'POST', path: '/3.0/lists/a1b2c3d4e5' });
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`sluice:${API_KEY}`).toString('base64')}`,
    );
    expect(request.body).toEqual({
      members: [
        {
          email_address: 'reader0@example.com',
          status: 'subscribed',
          merge_fields: { FNAME: 'Ann', LNAME: 'Lee' },
        },
        {
          email_address: 'reader1@example.com',
          status: 'subscribed',
          merge_fields: { FNAME: 'Ann', LNAME: 'Lee' },
        },
      ],
      update_existing: true,
    });
    expect(server.audience()).toEqual(['reader0@example.com', 'reader1@example.com']);
  });

  it('removes people by unsubscribing them', async () => {
    await deliver(batchOf(people(3)));
    const result = await deliver(batchOf(people(2), { operation: 'remove' }));

    expect(result.accepted).toBe(2);
    expect(server.audience()).toEqual(['reader2@example.com']);
    expect(server.statuses()['reader0@example.com']).toBe('unsubscribed');
  });

  it('changes nothing when a batch is sent again', async () => {
    const batch = batchOf(people(3));
    await deliver(batch);
    await deliver(batch);
    expect(server.received()).toBe(3);
    expect(server.audience()).toHaveLength(3);
  });

  it('declares 500 members per call and sends a larger batch in calls of 500', async () => {
    expect(mailchimpConnector.capabilities(config).maxBatchSize).toBe(500);
    const result = await deliver(batchOf(people(1_001)));

    expect(result.accepted).toBe(1_001);
    expect(server.requests.map((r) => (r.body as { members: unknown[] }).members.length)).toEqual([
      500, 500, 1,
    ]);
    expect(server.audience()).toHaveLength(1_001);
  });

  it('rejects a row without a valid email with its reason and sends the others', async () => {
    const result = await deliver(batchOf([...people(2), { email: 'nobody at home', first_name: 'X' }]));

    expect(result).toMatchObject({ accepted: 2, rejected: 1 });
    expect(result.rejections).toEqual([{ row: 2, reason: expect.stringMatching(/no usable identifier/) }]);
    expect((server.requests[0]!.body as { members: unknown[] }).members).toHaveLength(2);
  });

  it("turns Mailchimp's per-member errors into rejections of those rows", async () => {
    server.refuseEmails(['reader1@example.com']);
    const result = await deliver(batchOf(people(3)));

    expect(result).toMatchObject({ accepted: 2, rejected: 1 });
    expect(result.rejections).toEqual([{ row: 1, reason: expect.stringContaining('compliance state') }]);
  });

  it.each([401, 403])('treats a %i answer as refused', async (status) => {
    server.fail([{ status, body: { title: 'Forbidden', status, detail: 'You do not have permission' } }]);
    const failure = await failureOf(deliver(batchOf(people(1))));
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect(failure?.disposition).toBe('refused');
  });

  it('retries a 429 after the time Mailchimp asked for', async () => {
    server.fail([
      { status: 429, headers: { 'retry-after': '5' }, body: { title: 'Too Many Requests', status: 429 } },
    ]);
    const failure = await failureOf(deliver(batchOf(people(1))));
    expect(failure?.disposition).toBe('retry');
    expect(failure?.details.retryAfterMs).toBe(5_000);
  });

  it('test reads the audience, and fails on a bad key without showing it', async () => {
    await mailchimpConnector.test(ctx());
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/3.0/lists/a1b2c3d4e5' });

    const badKey = 'ffffffffffffffffffffffffffffffff-us21';
    const failure = await failureOf(mailchimpConnector.test(ctx({ ...config, apiKey: badKey })));
    expect(failure?.disposition).toBe('refused');
    expect(failure?.message).toMatch(/API key/);
    expect(failure?.message).toMatch(/API Key Invalid/);
    expect(failure?.message).not.toContain(badKey);
  });

  it('finds the datacenter in the key, and needs one when no baseUrl is set', () => {
    const parsed = MailchimpConfigSchema.parse({ apiKey: API_KEY, listId: 'abc123' });
    expect(mailchimpApiRoot(parsed)).toBe('https://us21.api.mailchimp.com/3.0');

    const result = MailchimpConfigSchema.safeParse({ apiKey: 'no-datacenter-here', listId: 'abc123' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['apiKey']);
    expect(result.error?.issues[0]?.message).not.toContain('no-datacenter-here');
  });
});
