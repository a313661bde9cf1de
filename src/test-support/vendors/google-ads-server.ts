import { randomUUID } from 'node:crypto';
import {
  header,
  isLowerHexDigest,
  type ScriptedAnswer,
  type SeenRequest,
  startVendorServer,
  type VendorServer,
} from './vendor-server.js';

/** Google Ads' Customer Match stand-in, with a way to make Google refuse some identifiers. */
export interface GoogleAdsServer extends VendorServer {
  /** The OAuth token endpoint on this server (`{url}/token`). */
  tokenUrl: string;
  /** Operations whose hashedEmail is one of these fail in partial-failure mode, as Google reports malformed values. */
  refuseEmails(hashes: readonly string[]): void;
  /** The jobs created so far, by resource name. */
  jobs(): { resourceName: string; status: string; externalId?: string; operations: number }[];
}

export interface GoogleAdsServerOptions {
  apiVersion: string;
  customerId: string;
  userListId: string;
  developerToken: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** When set, requests must carry this `login-customer-id` (a manager account). */
  loginCustomerId?: string;
}

interface Job {
  resourceName: string;
  externalId?: string;
  status: 'PENDING' | 'RUNNING' | 'SUCCESS';
  kind?: 'create' | 'remove';
  /** By person: an operation sent again to the same job (a retry) counts once. */
  operations: Map<string, 'create' | 'remove'>;
}

// Google documents 100,000 identifiers per AddOfflineUserDataJobOperations request at most.
const MAX_IDENTIFIERS = 100_000;
const CONSENT = new Set(['GRANTED', 'DENIED']);

/**
 * Starts a stand-in for the OAuth token endpoint and the Google Ads REST calls a Customer Match
 * upload makes: `offlineUserDataJobs:create`, `{job}:addOperations`, `{job}:run` and
 * `googleAds:search`, checking headers (`Authorization`, `developer-token`, `login-customer-id`),
 * consent, and that every hashed value is SHA-256 hex. A job's people join the list when it runs.
 */
export async function startGoogleAdsServer(options: GoogleAdsServerOptions): Promise<GoogleAdsServer> {
  const members = new Set<string>();
  const refused = new Set<string>();
  const accessTokens = new Set<string>();
  const jobs = new Map<string, Job>();
  let received = 0;
  const customer = `customers/${options.customerId}`;
  const userList = `${customer}/userLists/${options.userListId}`;
  const prefix = `/${options.apiVersion}/`;

  const handle = (request: SeenRequest): ScriptedAnswer => {
    if (request.path === '/token') return token(request.body);
    const denied = checkHeaders(request);
    if (denied) return denied;
    if (request.method !== 'POST' || !request.path.startsWith(prefix))
      return adsError(404, 'NOT_FOUND', 'Method not found.', {});
    const resource = request.path.slice(prefix.length);
    const body = request.body as Record<string, unknown> | undefined;
    if (resource === `${customer}/offlineUserDataJobs:create`) return createJob(body);
    if (resource === `${customer}/googleAds:search`) return search(body);
    const match = /^(customers\/\d+\/offlineUserDataJobs\/\d+):(addOperations|run)$/.exec(resource);
    const job = match?.[1] ? jobs.get(match[1]) : undefined;
    if (!job)
      return adsError(404, 'NOT_FOUND', 'Resource was not found.', { requestError: 'RESOURCE_NAME_MISSING' });
    return match?.[2] === 'run' ? runJob(job) : addOperations(job, body);
  };

  const token = (form: unknown): ScriptedAnswer => {
    const f = (form ?? {}) as Record<string, string>;
    if (f.client_id !== options.clientId || f.client_secret !== options.clientSecret) {
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'The OAuth client was not found.' },
      };
    }
    if (f.grant_type !== 'refresh_token' || f.refresh_token !== options.refreshToken) {
      return {
        status: 400,
        body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
      };
    }
    const accessToken = `ya29.${randomUUID()}`;
    accessTokens.add(accessToken);
    return {
      status: 200,
      body: {
        access_token: accessToken,
        expires_in: 3599,
        token_type: 'Bearer',
        scope: 'https://www.googleapis.com/auth/adwords',
      },
    };
  };

  const checkHeaders = (request: SeenRequest): ScriptedAnswer | undefined => {
    const bearer = /^Bearer (.+)$/.exec(header(request, 'authorization') ?? '')?.[1];
    if (!bearer || !accessTokens.has(bearer)) {
      return adsError(401, 'UNAUTHENTICATED', 'Request is missing required authentication credential.', {
        authenticationError: 'OAUTH_TOKEN_INVALID',
      });
    }
    if (header(request, 'developer-token') !== options.developerToken) {
      return adsError(401, 'UNAUTHENTICATED', 'The developer token is not valid.', {
        authenticationError: 'DEVELOPER_TOKEN_INVALID',
      });
    }
    const login = header(request, 'login-customer-id');
    if (login !== options.loginCustomerId) {
      return adsError(
        403,
        'PERMISSION_DENIED',
        'The caller does not have permission (check login-customer-id).',
        { authorizationError: 'USER_PERMISSION_DENIED' },
      );
    }
    return undefined;
  };

  const createJob = (body: Record<string, unknown> | undefined): ScriptedAnswer => {
    const job = body?.job as Record<string, unknown> | undefined;
    const metadata = job?.customerMatchUserListMetadata as Record<string, unknown> | undefined;
    const consent = metadata?.consent as Record<string, unknown> | undefined;
    if (job?.type !== 'CUSTOMER_MATCH_USER_LIST')
      return invalid('job.type must be CUSTOMER_MATCH_USER_LIST', { fieldError: 'REQUIRED' });
    if (metadata?.userList !== userList)
      return invalid(`customerMatchUserListMetadata.userList must be ${userList}`, {
        userListError: 'INVALID_USER_LIST_ID',
      });
    if (!CONSENT.has(String(consent?.adUserData)) || !CONSENT.has(String(consent?.adPersonalization))) {
      return invalid('consent.adUserData and consent.adPersonalization are required', {
        offlineUserDataJobError: 'CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS',
      });
    }
    if (job.externalId !== undefined && !/^\d+$/.test(String(job.externalId)))
      return invalid('job.externalId must be an int64', { fieldError: 'INVALID_VALUE' });
    const resourceName = `${customer}/offlineUserDataJobs/${jobs.size + 1000}`;
    jobs.set(resourceName, {
      resourceName,
      status: 'PENDING',
      operations: new Map(),
      ...(job.externalId === undefined ? {} : { externalId: String(job.externalId) }),
    });
    return { status: 200, body: { resourceName } };
  };

  const addOperations = (job: Job, body: Record<string, unknown> | undefined): ScriptedAnswer => {
    if (job.status !== 'PENDING')
      return invalid('The job has already run.', { offlineUserDataJobError: 'INVALID_JOB_STATUS' });
    const operations = body?.operations;
    if (!Array.isArray(operations) || operations.length === 0)
      return invalid('operations must not be empty', { collectionSizeError: 'TOO_FEW' });
    const identifiers = operations.reduce((n: number, op: unknown) => n + identifiersOf(op).length, 0);
    if (identifiers > MAX_IDENTIFIERS)
      return invalid(`${identifiers} identifiers in one request; at most ${MAX_IDENTIFIERS}`, {
        collectionSizeError: 'TOO_MANY',
      });
    const partial = body?.enablePartialFailure === true;
    const errors: unknown[] = [];
    for (const [index, op] of operations.entries()) {
      const kind =
        isRecord(op) && 'create' in op ? 'create' : isRecord(op) && 'remove' in op ? 'remove' : undefined;
      const problem = kind ? checkIdentifiers(identifiersOf(op)) : 'each operation needs create or remove';
      if (kind && job.kind && job.kind !== kind)
        return invalid('A job cannot mix create and remove operations.', {
          offlineUserDataJobError: 'ADD_AND_REMOVE_IN_SAME_JOB',
        });
      if (problem || !kind) {
        if (!partial)
          return invalid(problem ?? 'bad operation', { offlineUserDataJobError: 'INVALID_SHA256_FORMAT' });
        errors.push(operationError(index, problem ?? 'bad operation'));
        continue;
      }
      job.kind = kind;
      const key = personKey(identifiersOf(op));
      if (refused.has(key)) {
        errors.push(operationError(index, 'The SHA256 encoded value is malformed.'));
        continue;
      }
      job.operations.set(key, kind);
    }
    if (errors.length === 0) return { status: 200, body: {} };
    return {
      status: 200,
      body: {
        partialFailureError: {
          code: 3,
          message: `Multiple errors in 'details'. First error: ${errors.length} operations failed.`,
          details: [
            {
              '@type': `type.googleapis.com/google.ads.googleads.${options.apiVersion}.errors.GoogleAdsFailure`,
              errors,
              requestId: randomUUID(),
            },
          ],
        },
      },
    };
  };

  const runJob = (job: Job): ScriptedAnswer => {
    if (job.status !== 'PENDING')
      return invalid('The job has already run.', { offlineUserDataJobError: 'INVALID_JOB_STATUS' });
    job.status = 'SUCCESS';
    for (const [key, kind] of job.operations) {
      if (kind === 'create') members.add(key);
      else members.delete(key);
    }
    received += job.operations.size;
    return { status: 200, body: { name: `${customer}/operations/${job.resourceName.split('/').pop()}` } };
  };

  const search = (body: Record<string, unknown> | undefined): ScriptedAnswer => {
    const query = String(body?.query ?? '');
    if (/FROM user_list WHERE user_list\.resource_name = '([^']+)'/.exec(query)?.[1] === userList) {
      return {
        status: 200,
        body: {
          results: [
            { userList: { resourceName: userList, id: options.userListId, name: 'Sluice test list' } },
          ],
        },
      };
    }
    const external = /FROM offline_user_data_job WHERE offline_user_data_job\.external_id = (\d+)/.exec(
      query,
    )?.[1];
    if (external !== undefined) {
      const results = [...jobs.values()]
        .filter((j) => j.externalId === external)
        .map((j) => ({
          offlineUserDataJob: { resourceName: j.resourceName, status: j.status, externalId: j.externalId },
        }));
      return { status: 200, body: { results } };
    }
    if (/FROM user_list/.test(query)) return { status: 200, body: { results: [] } };
    return invalid(`Error in query: ${query}`, { queryError: 'UNEXPECTED_INPUT' });
  };

  const invalid = (message: string, errorCode: Record<string, string>) =>
    adsError(400, 'INVALID_ARGUMENT', message, errorCode);

  const adsError = (
    code: number,
    status: string,
    message: string,
    errorCode: Record<string, string>,
  ): ScriptedAnswer => ({
    status: code,
    body: {
      error: {
        code,
        message,
        status,
        details: [
          {
            '@type': `type.googleapis.com/google.ads.googleads.${options.apiVersion}.errors.GoogleAdsFailure`,
            errors: [{ errorCode, message }],
            requestId: randomUUID(),
          },
        ],
      },
    },
  });

  const server = await startVendorServer(handle, { audience: () => [...members], received: () => received });
  return {
    ...server,
    tokenUrl: `${server.url}/token`,
    refuseEmails: (hashes) => {
      for (const h of hashes) refused.add(h);
    },
    jobs: () =>
      [...jobs.values()].map((j) => ({
        resourceName: j.resourceName,
        status: j.status,
        operations: j.operations.size,
        ...(j.externalId ? { externalId: j.externalId } : {}),
      })),
  };
}

function identifiersOf(op: unknown): Record<string, unknown>[] {
  if (!isRecord(op)) return [];
  const data = (op.create ?? op.remove) as { userIdentifiers?: unknown } | undefined;
  return Array.isArray(data?.userIdentifiers) ? (data.userIdentifiers as Record<string, unknown>[]) : [];
}

function checkIdentifiers(ids: Record<string, unknown>[]): string | undefined {
  if (ids.length === 0) return 'userIdentifiers must not be empty';
  for (const id of ids) {
    const keys = Object.keys(id);
    if (keys.length !== 1)
      return 'each user identifier sets exactly one of hashedEmail, hashedPhoneNumber, addressInfo';
    if ('hashedEmail' in id && !isLowerHexDigest(id.hashedEmail)) return 'hashedEmail is not SHA-256 hex';
    if ('hashedPhoneNumber' in id && !isLowerHexDigest(id.hashedPhoneNumber))
      return 'hashedPhoneNumber is not SHA-256 hex';
    if ('addressInfo' in id) {
      const a = id.addressInfo as Record<string, unknown>;
      if (!isLowerHexDigest(a?.hashedFirstName) || !isLowerHexDigest(a?.hashedLastName))
        return 'addressInfo names must be SHA-256 hex';
      if (typeof a.countryCode !== 'string' || !/^[A-Z]{2}$/.test(a.countryCode))
        return 'addressInfo.countryCode must be ISO 3166-1 alpha-2';
      if (typeof a.postalCode !== 'string' || a.postalCode === '')
        return 'addressInfo.postalCode is required with the names';
    } else if (!('hashedEmail' in id) && !('hashedPhoneNumber' in id)) {
      return `unknown user identifier ${keys[0]}`;
    }
  }
  return undefined;
}

/** How the stand-in names a person: the email hash, else the phone hash, else the address. */
function personKey(ids: Record<string, unknown>[]): string {
  const email = ids.find((id) => 'hashedEmail' in id)?.hashedEmail;
  const phone = ids.find((id) => 'hashedPhoneNumber' in id)?.hashedPhoneNumber;
  return String(email ?? phone ?? JSON.stringify(ids));
}

function operationError(index: number, message: string) {
  return {
    errorCode: { offlineUserDataJobError: 'INVALID_SHA256_FORMAT' },
    message,
    location: {
      fieldPathElements: [
        { fieldName: 'operations', index },
        { fieldName: 'create' },
        { fieldName: 'user_identifiers' },
      ],
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
