import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOOGLE_ADS_TEST_ACCOUNT, googleAdsTarget } from '../conformance/google-ads-target.js';
import { mailchimpTarget } from '../conformance/mailchimp-target.js';
import { metaTarget } from '../conformance/meta-target.js';
import { batchOf, type ConformanceTarget } from '../conformance.js';
import { startGoogleAdsServer } from './google-ads-server.js';
import { startMailchimpServer } from './mailchimp-server.js';
import { startMetaGraphServer } from './meta-graph-server.js';

const DIGEST = '973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b';
const tempDir = mkdtempSync(join(tmpdir(), 'sluice-vendors-'));

// The stand-ins are only worth their checks: each must refuse what the vendor refuses.
describe('Meta stand-in', () => {
  const send = async (url: string, form: Record<string, unknown>) => {
    const body = new URLSearchParams(
      Object.fromEntries(
        Object.entries(form).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
      ),
    );
    const response = await fetch(`${url}/v21.0/42/users`, { method: 'POST', body });
    return {
      status: response.status,
      body: (await response.json()) as { error?: { code: number; message: string } },
    };
  };
  const session = { session_id: 7, batch_seq: 1, last_batch_flag: true, estimated_num_total: 1 };

  it.each([
    ['an unhashed value', { schema: ['EMAIL'], data: [['test@example.com']] }, session, /not SHA-256 hex/],
    ['uppercase hex', { schema: ['EMAIL'], data: [[DIGEST.toUpperCase()]] }, session, /not SHA-256 hex/],
    ['an unknown schema key', { schema: ['MAIL'], data: [[DIGEST]] }, session, /unknown key/],
    [
      'a row that does not fit the schema',
      { schema: ['EMAIL', 'PHONE'], data: [[DIGEST]] },
      session,
      /does not match/,
    ],
    ['no session', { schema: ['EMAIL'], data: [[DIGEST]] }, undefined, /session/],
    ['a batch_seq of 0', { schema: ['EMAIL'], data: [[DIGEST]] }, { ...session, batch_seq: 0 }, /batch_seq/],
    [
      'more than 10,000 rows',
      { schema: ['EMAIL'], data: Array.from({ length: 10_001 }, () => [DIGEST]) },
      session,
      /at most 10000/,
    ],
  ])('refuses %s with a Graph error', async (_, payload, sessionParam, message) => {
    const server = await startMetaGraphServer({ accessToken: 'tok', audienceId: '42', apiVersion: 'v21.0' });
    const form: Record<string, unknown> = { payload, access_token: 'tok' };
    if (sessionParam) form.session = sessionParam;
    const answer = await send(server.url, form);
    await server.close();
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe(100);
    expect(answer.body.error?.message).toMatch(message);
    expect(server.audience()).toEqual([]);
  });

  it('refuses a wrong access token with code 190', async () => {
    const server = await startMetaGraphServer({ accessToken: 'tok', audienceId: '42', apiVersion: 'v21.0' });
    const answer = await send(server.url, {
      payload: { schema: ['EMAIL'], data: [[DIGEST]] },
      session,
      access_token: 'x',
    });
    await server.close();
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe(190);
  });
});

describe('Google Ads stand-in', () => {
  const account = GOOGLE_ADS_TEST_ACCOUNT;
  const signedIn = async () => {
    const server = await startGoogleAdsServer(account);
    const token = await fetch(server.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: account.clientId,
        client_secret: account.clientSecret,
        refresh_token: account.refreshToken,
      }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const post = async (resource: string, body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${server.url}/v21/${resource}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token.access_token}`,
          'developer-token': account.developerToken,
          'content-type': 'application/json',
          ...headers,
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    return { server, post };
  };
  const job = (consent: Record<string, string> | undefined) => ({
    job: {
      type: 'CUSTOMER_MATCH_USER_LIST',
      customerMatchUserListMetadata: {
        userList: `customers/${account.customerId}/userLists/${account.userListId}`,
        ...(consent ? { consent } : {}),
      },
    },
  });

  it('refuses a job without consent, and a wrong developer token', async () => {
    const { server, post } = await signedIn();
    const create = `customers/${account.customerId}/offlineUserDataJobs:create`;
    const noConsent = await post(create, job(undefined));
    const badToken = await post(create, job({ adUserData: 'GRANTED', adPersonalization: 'GRANTED' }), {
      'developer-token': 'nope',
    });
    await server.close();
    expect(noConsent.status).toBe(400);
    expect(JSON.stringify(noConsent.body)).toMatch(/consent/);
    expect(badToken.status).toBe(401);
  });

  it('refuses unhashed identifiers, and reports them per operation in partial-failure mode', async () => {
    const { server, post } = await signedIn();
    const created = await post(
      `customers/${account.customerId}/offlineUserDataJobs:create`,
      job({ adUserData: 'GRANTED', adPersonalization: 'DENIED' }),
    );
    const name = String(created.body.resourceName);
    const operations = [
      { create: { userIdentifiers: [{ hashedEmail: DIGEST }] } },
      { create: { userIdentifiers: [{ hashedEmail: 'test@example.com' }] } },
    ];
    const whole = await post(`${name}:addOperations`, { operations });
    const partial = await post(`${name}:addOperations`, { operations, enablePartialFailure: true });
    await post(`${name}:run`, {});
    await server.close();
    expect(whole.status).toBe(400);
    expect(partial.status).toBe(200);
    expect(JSON.stringify(partial.body.partialFailureError)).toMatch(/"fieldName":"operations","index":1/);
    expect(server.audience()).toEqual([DIGEST]);
  });
});

describe('Mailchimp stand-in', () => {
  it('refuses more than 500 members and a wrong API key', async () => {
    const server = await startMailchimpServer({ apiKey: 'key-us1', listId: 'l1' });
    const call = (key: string, count: number) =>
      fetch(`${server.url}/3.0/lists/l1`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          members: Array.from({ length: count }, (_, i) => ({
            email_address: `p${i}@example.com`,
            status: 'subscribed',
          })),
          update_existing: true,
        }),
      }).then((r) => r.status);
    const tooMany = await call('key-us1', 501);
    const wrongKey = await call('other-us1', 1);
    await server.close();
    expect(tooMany).toBe(400);
    expect(wrongKey).toBe(401);
    expect(server.audience()).toEqual([]);
  });
});

describe.each([
  ['meta', metaTarget],
  ['google ads', googleAdsTarget],
  ['mailchimp', mailchimpTarget],
] as [string, ConformanceTarget][])('%s conformance target', (_, target) => {
  it('keeps the people it was sent under keyOf, refuses its invalid row and its bad config', async () => {
    const setup = await target.start();
    try {
      const ctx = (config: unknown) => ({ config, signal: new AbortController().signal, tempDir });
      await target.connector.test(ctx(setup.config));
      await expect(target.connector.test(ctx(setup.badConfig))).rejects.toThrow();
      const rows = setup.rows(3, 10);
      const result = await target.connector.deliver(
        ctx(setup.config),
        batchOf([...rows, setup.invalidRow ?? {}]),
      );
      expect(result).toMatchObject({ accepted: 3, rejected: 1 });
      expect(await setup.present()).toEqual(rows.map(setup.keyOf).sort());
      expect(await setup.received()).toBe(3);
    } finally {
      await setup.close();
    }
  });
});
