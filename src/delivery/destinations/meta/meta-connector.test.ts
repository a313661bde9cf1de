import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { batchOf } from '../../../test-support/conformance.js';
import {
  audiencePeople,
  emailHashOf,
  UNUSABLE_PERSON,
} from '../../../test-support/vendors/audience-people.js';
import {
  type MetaGraphServer,
  startMetaGraphServer,
} from '../../../test-support/vendors/meta-graph-server.js';
import { DeliveryFailure } from '../../connector.js';
import { type MetaConfig, MetaConfigSchema } from './meta-config.js';
import { metaConnector } from './meta-connector.js';

const TOKEN = 'EAAtestToken-s3cr3t-value';
let server: MetaGraphServer;
let config: MetaConfig;
const tempDir = mkdtempSync(join(tmpdir(), 'sluice-meta-'));

beforeEach(async () => {
  server = await startMetaGraphServer({ accessToken: TOKEN, audienceId: '2385001', apiVersion: 'v21.0' });
  config = MetaConfigSchema.parse({ baseUrl: server.url, audienceId: '2385001', accessToken: TOKEN });
});
afterEach(() => server.close());

const ctx = (c: MetaConfig = config) => ({ config: c, signal: new AbortController().signal, tempDir });
const deliver = (batch: Parameters<typeof metaConnector.deliver>[1], c?: MetaConfig) =>
  metaConnector.deliver(ctx(c), batch);

interface SentForm {
  payload: { schema: string[]; data: string[][] };
  session: { session_id: number; batch_seq: number; last_batch_flag: boolean; estimated_num_total: number };
  access_token: string;
}
const sent = (i: number): SentForm => {
  const body = server.requests[i]?.body as Record<string, string>;
  return {
    payload: JSON.parse(body.payload ?? ''),
    session: JSON.parse(body.session ?? ''),
    access_token: body.access_token ?? '',
  };
};

describe('metaConnector', () => {
  it('adds people as hashed multi-key rows in a session, as Meta documents', async () => {
    const rows = audiencePeople(3);
    const result = await deliver(batchOf(rows));

    expect(result).toMatchObject({ accepted: 3, rejected: 0, rejections: [] });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v21.0/2385001/users' });
    const form = sent(0);
    expect(form.payload.schema).toEqual(['EMAIL', 'PHONE', 'FN', 'LN', 'ZIP', 'COUNTRY']);
    // The golden vectors: ` Person0@Example.com` is hashed as `person0@example.com`, the phone as digits.
    expect(form.payload.data[0]?.[0]).toBe(emailHashOf(rows[0]!));
    expect(form.payload.data[0]?.[5]).toBe(
      '79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621',
    );
    expect(form.session).toMatchObject({ batch_seq: 1, last_batch_flag: true });
    expect(server.audience()).toEqual(rows.map(emailHashOf).sort());
  });

  it('sends the phone as digits only, hashed', async () => {
    await deliver(batchOf([{ phone: '(415) 555-2671' }]));
    expect(sent(0).payload).toEqual({
      schema: ['PHONE'],
      data: [['758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0']],
    });
  });

  it('removes people with DELETE on the same path', async () => {
    const rows = audiencePeople(3);
    await deliver(batchOf(rows));
    const result = await deliver(batchOf(rows.slice(0, 2), { operation: 'remove', key: 'run_2:dst_test:0' }));

    expect(result.accepted).toBe(2);
    expect(server.requests[1]?.method).toBe('DELETE');
    expect(server.audience()).toEqual([emailHashOf(rows[2]!)]);
  });

  it('numbers the batches of a run in one session that a retry reuses', async () => {
    const rows = audiencePeople(4);
    const first = batchOf(rows.slice(0, 2), { key: 'run_7:dst_1:0', index: 0, count: 2 });
    const second = batchOf(rows.slice(2), { key: 'run_7:dst_1:1', index: 1, count: 2 });
    await deliver(first);
    await deliver(second);
    await deliver(second);

    const sessions = [0, 1, 2].map((i) => sent(i).session);
    expect(sessions.map((s) => s.batch_seq)).toEqual([1, 2, 2]);
    expect(sessions.map((s) => s.last_batch_flag)).toEqual([false, true, true]);
    expect(new Set(sessions.map((s) => s.session_id)).size).toBe(1);
    expect(server.received()).toBe(4);
    expect(server.audience()).toHaveLength(4);

    await deliver(batchOf(rows.slice(0, 1), { key: 'run_7:dst_1:0', operation: 'remove' }));
    expect(sent(3).session.session_id).not.toBe(sessions[0]?.session_id);
  });

  it('sends 10,000 rows in one request and refuses a larger batch without sending it', async () => {
    const rows = audiencePeople(10_001);
    const result = await deliver(batchOf(rows.slice(0, 10_000)));
    expect(result.accepted).toBe(10_000);
    expect(sent(0).payload.data).toHaveLength(10_000);

    const failure = await deliver(batchOf(rows)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect((failure as DeliveryFailure).disposition).toBe('refused');
    expect(server.requests).toHaveLength(1);
  });

  it('rejects a row without an identifier with its reason and sends the others', async () => {
    const rows = [...audiencePeople(2), UNUSABLE_PERSON];
    const result = await deliver(batchOf(rows));

    expect(result.accepted).toBe(2);
    expect(result.rejected).toBe(1);
    expect(result.rejections).toEqual([{ row: 2, reason: expect.stringMatching(/no usable identifier/) }]);
    expect(sent(0).payload.data).toHaveLength(2);
  });

  it('sends nothing when no row has an identifier', async () => {
    const result = await deliver(batchOf([UNUSABLE_PERSON]));
    expect(result).toMatchObject({ accepted: 0, rejected: 1 });
    expect(server.requests).toHaveLength(0);
  });

  it("turns Meta's invalid entries into rejections", async () => {
    const rows = audiencePeople(3);
    server.refuseEmails([emailHashOf(rows[1]!)]);
    const result = await deliver(batchOf(rows));

    expect(result.accepted).toBe(2);
    expect(result.rejected).toBe(1);
    expect(result.rejections).toEqual([
      { reason: expect.stringContaining('Invalid format for the EMAIL key'), count: 1 },
    ]);
  });

  it.each([401, 403])('treats a %i answer as refused', async (status) => {
    server.fail([
      { status, body: { error: { message: 'Permissions error', type: 'OAuthException', code: 200 } } },
    ]);
    const failure = (await deliver(batchOf(audiencePeople(1))).catch(
      (err: unknown) => err,
    )) as DeliveryFailure;
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect(failure.disposition).toBe('refused');
    expect(failure.details.status).toBe(status);
  });

  it('retries a 429 after the time Meta asked for', async () => {
    server.fail([{ status: 429, headers: { 'retry-after': '30' } }]);
    const failure = (await deliver(batchOf(audiencePeople(1))).catch(
      (err: unknown) => err,
    )) as DeliveryFailure;
    expect(failure.disposition).toBe('retry');
    expect(failure.details.retryAfterMs).toBe(30_000);
  });

  it("retries Meta's throttling errors even though they come as 400", async () => {
    const body = { error: { message: 'User request limit reached', type: 'OAuthException', code: 17 } };
    server.fail([{ status: 400, body }]);
    const failure = (await deliver(batchOf(audiencePeople(1))).catch(
      (err: unknown) => err,
    )) as DeliveryFailure;
    expect(failure.disposition).toBe('retry');
  });

  it('test reads the audience, and fails on a bad token without showing it', async () => {
    await metaConnector.test(ctx());
    expect(server.requests[0]).toMatchObject({ method: 'GET', path: '/v21.0/2385001' });

    const bad = { ...config, accessToken: 'EAAwrong-token-value' };
    const failure = (await metaConnector.test(ctx(bad)).catch((err: unknown) => err)) as DeliveryFailure;
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect(failure.disposition).toBe('refused');
    expect(failure.message).toMatch(/access token/);
    expect(failure.message).toMatch(/Invalid OAuth access token/);
    expect(failure.message).not.toContain('EAAwrong-token-value');
  });

  it('refuses a config without an audience id, naming the field', () => {
    const parsed = MetaConfigSchema.safeParse({ accessToken: TOKEN, audienceId: 'my audience' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['audienceId']);
  });
});
