import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GOOGLE_ADS_TEST_ACCOUNT } from '../../../test-support/conformance/google-ads-target.js';
import { batchOf } from '../../../test-support/conformance.js';
import {
  audiencePeople,
  emailHashOf,
  UNUSABLE_PERSON,
} from '../../../test-support/vendors/audience-people.js';
import {
  type GoogleAdsServer,
  startGoogleAdsServer,
} from '../../../test-support/vendors/google-ads-server.js';
import { DeliveryFailure } from '../../connector.js';
import { type GoogleAdsConfig, GoogleAdsConfigSchema } from './google-ads-config.js';
import { googleAdsConnector } from './google-ads-connector.js';

const account = GOOGLE_ADS_TEST_ACCOUNT;
let server: GoogleAdsServer;
let config: GoogleAdsConfig;
const tempDir = mkdtempSync(join(tmpdir(), 'sluice-google-ads-'));

const configFor = (url: string, tokenUrl: string, extra: Record<string, unknown> = {}) =>
  GoogleAdsConfigSchema.parse({
    baseUrl: url,
    tokenUrl,
    customerId: account.customerId,
    userListId: account.userListId,
    developerToken: account.developerToken,
    clientId: account.clientId,
    clientSecret: account.clientSecret,
    refreshToken: account.refreshToken,
    adUserData: 'GRANTED',
    adPersonalization: 'DENIED',
    ...extra,
  });

beforeEach(async () => {
  server = await startGoogleAdsServer(account);
  config = configFor(server.url, server.tokenUrl);
});
afterEach(() => server.close());

const ctx = (c: GoogleAdsConfig = config) => ({ config: c, signal: new AbortController().signal, tempDir });
const deliver = (batch: Parameters<typeof googleAdsConnector.deliver>[1], c?: GoogleAdsConfig) =>
  googleAdsConnector.deliver(ctx(c), batch);
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err as DeliveryFailure,
  );
const paths = () => server.requests.map((r) => `${r.method} ${r.path}`);

describe('googleAdsConnector', () => {
  it('creates a job with list and consent, adds hashed identifiers with partial failure, then runs it', async () => {
    const rows = audiencePeople(2);
    const result = await deliver(batchOf(rows));

    expect(result).toMatchObject({ accepted: 2, rejected: 0, rejections: [] });
    expect(paths()).toEqual([
      'POST /token',
      'POST /v21/customers/1234567890/googleAds:search',
      'POST /v21/customers/1234567890/offlineUserDataJobs:create',
      'POST /v21/customers/1234567890/offlineUserDataJobs/1000:addOperations',
      'POST /v21/customers/1234567890/offlineUserDataJobs/1000:run',
    ]);
    expect(server.requests[2]?.body).toMatchObject({
      job: {
        type: 'CUSTOMER_MATCH_USER_LIST',
        customerMatchUserListMetadata: {
          userList: 'customers/1234567890/userLists/555000111',
          consent: { adUserData: 'GRANTED', adPersonalization: 'DENIED' },
        },
      },
    });
    const add = server.requests[3]!.body as { enablePartialFailure: boolean; operations: unknown[] };
    expect(add.enablePartialFailure).toBe(true);
    expect(add.operations[0]).toEqual({
      create: {
        userIdentifiers: [
          { hashedEmail: emailHashOf(rows[0]!) },
          // (415) 555-0000 as +14155550000, with the `+` Google keeps.
          { hashedPhoneNumber: sha256('+14155550000') },
          {
            addressInfo: {
              hashedFirstName: sha256('ann'),
              hashedLastName: sha256('lee'),
              countryCode: 'US',
              postalCode: '10000',
            },
          },
        ],
      },
    });
    expect(server.audience()).toEqual(rows.map(emailHashOf).sort());
  });

  it('sends the headers Google Ads requires, login-customer-id when set', async () => {
    await server.close();
    server = await startGoogleAdsServer({ ...account, loginCustomerId: '9876543210' });
    const managed = configFor(server.url, server.tokenUrl, { loginCustomerId: '9876543210' });
    await deliver(batchOf(audiencePeople(1)), managed);

    const call = server.requests[1]!;
    expect(call.headers['developer-token']).toBe(account.developerToken);
    expect(call.headers['login-customer-id']).toBe('9876543210');
    expect(call.headers.authorization).toMatch(/^Bearer ya29\./);
    expect(server.audience()).toHaveLength(1);
  });

  it('removes people with remove operations', async () => {
    const rows = audiencePeople(3);
    await deliver(batchOf(rows));
    const result = await deliver(batchOf(rows.slice(1), { operation: 'remove', key: 'run_2:dst:0' }));

    expect(result.accepted).toBe(2);
    const add = server.requests.at(-2)?.body as { operations: Record<string, unknown>[] };
    expect(Object.keys(add.operations[0] ?? {})).toEqual(['remove']);
    expect(server.audience()).toEqual([emailHashOf(rows[0]!)]);
  });

  it('splits a batch into requests of at most 10,000 identifiers', async () => {
    // Three identifiers a person: 4,000 people make 12,000 identifiers, two requests.
    const rows = audiencePeople(4_000);
    const result = await deliver(batchOf(rows));

    expect(result.accepted).toBe(4_000);
    const adds = server.requests.filter((r) => r.path.endsWith(':addOperations'));
    const sizes = adds.map((r) =>
      (r.body as { operations: { create: { userIdentifiers: unknown[] } }[] }).operations.reduce(
        (n, op) => n + op.create.userIdentifiers.length,
        0,
      ),
    );
    expect(sizes).toEqual([9_999, 2_001]);
    expect(server.audience()).toHaveLength(4_000);
  });

  it('does not upload a batch again once its job ran', async () => {
    const batch = batchOf(audiencePeople(3));
    await deliver(batch);
    const again = await deliver(batch);

    expect(again).toMatchObject({ accepted: 3, detail: { alreadyRun: true } });
    expect(server.jobs()).toHaveLength(1);
    expect(server.received()).toBe(3);
  });

  it('finishes the job an interrupted attempt left pending instead of starting another', async () => {
    const batch = batchOf(audiencePeople(3));
    server.fail([{ status: 503, path: ':run', body: { error: { code: 503, status: 'UNAVAILABLE' } } }]);
    const failure = await failureOf(deliver(batch));
    expect(failure?.disposition).toBe('retry');
    expect(server.audience()).toEqual([]);

    const result = await deliver(batch);
    expect(result.accepted).toBe(3);
    expect(server.jobs()).toEqual([expect.objectContaining({ status: 'SUCCESS', operations: 3 })]);
    expect(server.received()).toBe(3);
    expect(server.audience()).toHaveLength(3);
  });

  it('rejects a row without an identifier with its reason and sends the others', async () => {
    const result = await deliver(batchOf([...audiencePeople(2), UNUSABLE_PERSON]));

    expect(result).toMatchObject({ accepted: 2, rejected: 1 });
    expect(result.rejections).toEqual([{ row: 2, reason: expect.stringMatching(/no usable identifier/) }]);
    expect((server.requests[3]!.body as { operations: unknown[] }).operations).toHaveLength(2);
  });

  it("turns Google's partial failures into rejections of those rows", async () => {
    const rows = audiencePeople(3);
    server.refuseEmails([emailHashOf(rows[1]!)]);
    const result = await deliver(batchOf(rows));

    expect(result).toMatchObject({ accepted: 2, rejected: 1 });
    expect(result.rejections).toEqual([{ row: 1, reason: expect.stringContaining('INVALID_SHA256_FORMAT') }]);
    expect(server.audience()).toHaveLength(2);
  });

  it.each([401, 403])('treats a %i answer as refused', async (status) => {
    server.fail([{ status: 200, body: { access_token: 'ya29.x' } }]);
    server.fail([
      {
        status,
        body: {
          error: {
            code: status,
            message: 'The caller does not have permission',
            status: 'PERMISSION_DENIED',
          },
        },
      },
    ]);
    const failure = await failureOf(deliver(batchOf(audiencePeople(1))));
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect(failure?.disposition).toBe('refused');
    expect(failure?.details.status).toBe(status);
  });

  it('retries a 429 after the time Google asked for', async () => {
    server.fail([
      {
        status: 429,
        headers: { 'retry-after': '12' },
        body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } },
      },
    ]);
    const failure = await failureOf(deliver(batchOf(audiencePeople(1))));
    expect(failure?.disposition).toBe('retry');
    expect(failure?.details.retryAfterMs).toBe(12_000);
  });

  it('test reads the user list, and fails on a revoked refresh token without showing it', async () => {
    await googleAdsConnector.test(ctx());
    expect((server.requests[1]!.body as { query: string }).query).toContain(
      "user_list.resource_name = 'customers/1234567890/userLists/555000111'",
    );

    const bad = { ...config, refreshToken: '1//revoked-refresh-token' };
    const failure = await failureOf(googleAdsConnector.test(ctx(bad)));
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect(failure?.disposition).toBe('refused');
    expect(failure?.message).toMatch(/refresh token/);
    expect(failure?.message).toMatch(/invalid_grant/);
    expect(failure?.message).not.toContain('revoked-refresh-token');
    expect(failure?.message).not.toContain(account.clientSecret);
  });

  it('test fails clearly when the list is not in the account', async () => {
    const failure = await failureOf(googleAdsConnector.test(ctx({ ...config, userListId: '42' })));
    expect(failure?.message).toMatch(/has no user list 42/);
  });

  it('requires both consent fields in the config', () => {
    const parsed = GoogleAdsConfigSchema.safeParse({ ...config, adPersonalization: undefined });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['adPersonalization']);
  });
});

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
