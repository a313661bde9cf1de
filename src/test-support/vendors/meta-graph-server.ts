import {
  isLowerHexDigest,
  type ScriptedAnswer,
  type SeenRequest,
  startVendorServer,
  type VendorServer,
} from './vendor-server.js';

/** Meta's Custom Audience stand-in, with a way to make Meta count some entries invalid. */
export interface MetaGraphServer extends VendorServer {
  /** Rows whose EMAIL hash is one of these are counted invalid, as Meta does for entries it cannot use. */
  refuseEmails(hashes: readonly string[]): void;
}

// The multi-key schema names Meta documents for /{audience_id}/users.
const SCHEMA_KEYS = new Set([
  'EXTERN_ID',
  'EMAIL',
  'PHONE',
  'GEN',
  'DOBY',
  'DOBM',
  'DOBD',
  'LN',
  'FN',
  'FI',
  'CT',
  'ST',
  'ZIP',
  'MADID',
  'COUNTRY',
]);
const MAX_ROWS = 10_000;

/**
 * Starts a stand-in for the Graph API's Custom Audience endpoints as Meta documents them:
 * `GET /{version}/{audience_id}?fields=…`, and `POST`/`DELETE /{version}/{audience_id}/users` with
 * form fields `payload` (`{ schema, data }`), `session` (`{ session_id, batch_seq, last_batch_flag,
 * estimated_num_total }`) and `access_token`. A batch resent with the same session and sequence
 * changes nothing and counts once.
 */
export async function startMetaGraphServer(options: {
  accessToken: string;
  audienceId: string;
  apiVersion: string;
}): Promise<MetaGraphServer> {
  const members = new Set<string>();
  const refused = new Set<string>();
  const seenBatches = new Map<string, ScriptedAnswer>();
  let received = 0;
  const base = `/${options.apiVersion}/${options.audienceId}`;

  const handle = (request: SeenRequest, url: URL): ScriptedAnswer => {
    const params = request.method === 'GET' ? Object.fromEntries(url.searchParams) : request.body;
    if (!isRecord(params)) return graphError(100, 'The request body must be form-encoded parameters');
    if (params.access_token !== options.accessToken) {
      return graphError(190, 'Invalid OAuth access token - Cannot parse access token', 'OAuthException');
    }
    if (request.method === 'GET' && request.path === base) {
      const fields = String(params.fields ?? 'id').split(',');
      const audience: Record<string, unknown> = { id: options.audienceId, name: 'Sluice test audience' };
      audience.approximate_count_lower_bound = members.size;
      audience.operation_status = { code: 200, description: 'Normal' };
      return { status: 200, body: Object.fromEntries(fields.map((f) => [f, audience[f]])) };
    }
    if (request.path !== `${base}/users` || (request.method !== 'POST' && request.method !== 'DELETE')) {
      return graphError(100, `Unsupported ${request.method.toLowerCase()} request to ${request.path}`);
    }
    const payload = parseJsonParam(params.payload);
    const session = parseJsonParam(params.session);
    const problem = checkPayload(payload) ?? checkSession(session);
    if (problem) return graphError(100, `Invalid parameter: ${problem}`);
    const { schema, data } = payload as { schema: string[]; data: string[][] };
    const { session_id, batch_seq } = session as { session_id: number; batch_seq: number };
    const batchKey = `${request.method}:${session_id}:${batch_seq}`;
    const earlier = seenBatches.get(batchKey);
    if (earlier) return earlier;

    const emailAt = schema.indexOf('EMAIL');
    const samples: Record<string, string> = {};
    let invalid = 0;
    for (const row of data) {
      const email = emailAt >= 0 ? row[emailAt] : undefined;
      if (email && refused.has(email)) {
        invalid += 1;
        samples[email] = 'Invalid format for the EMAIL key';
        continue;
      }
      const key = personKey(schema, row);
      if (request.method === 'POST') members.add(key);
      else members.delete(key);
    }
    received += data.length;
    const answer: ScriptedAnswer = {
      status: 200,
      body: {
        audience_id: options.audienceId,
        session_id: String(session_id),
        num_received: data.length,
        num_invalid_entries: invalid,
        invalid_entry_samples: samples,
      },
    };
    seenBatches.set(batchKey, answer);
    return answer;
  };

  const server = await startVendorServer(handle, { audience: () => [...members], received: () => received });
  return {
    ...server,
    refuseEmails: (hashes) => {
      for (const h of hashes) refused.add(h);
    },
  };
}

/** How the stand-in names a person: the email hash, else the phone hash, else every key together. */
function personKey(schema: readonly string[], row: readonly string[]): string {
  const at = (key: string) => {
    const index = schema.indexOf(key);
    return index >= 0 ? row[index] : undefined;
  };
  return at('EMAIL') || at('PHONE') || row.join('|');
}

function checkPayload(payload: unknown): string | undefined {
  if (!isRecord(payload)) return 'payload must be a JSON object with schema and data';
  const { schema, data } = payload;
  if (!Array.isArray(schema) || schema.length === 0) return 'payload.schema must be a non-empty array';
  const unknownKey = schema.find((k) => typeof k !== 'string' || !SCHEMA_KEYS.has(k));
  if (unknownKey !== undefined) return `payload.schema has an unknown key ${JSON.stringify(unknownKey)}`;
  if (new Set(schema).size !== schema.length) return 'payload.schema repeats a key';
  if (!Array.isArray(data) || data.length === 0) return 'payload.data must be a non-empty array';
  if (data.length > MAX_ROWS) return `payload.data has ${data.length} rows; at most ${MAX_ROWS} per request`;
  for (const [i, row] of data.entries()) {
    if (!Array.isArray(row) || row.length !== schema.length)
      return `payload.data[${i}] does not match the schema`;
    if (row.some((v) => v !== '' && !isLowerHexDigest(v)))
      return `payload.data[${i}] has a value that is not SHA-256 hex`;
    if (row.every((v) => v === '')) return `payload.data[${i}] is empty`;
  }
  return undefined;
}

function checkSession(session: unknown): string | undefined {
  if (!isRecord(session)) return 'session must be a JSON object';
  if (!Number.isSafeInteger(session.session_id)) return 'session.session_id must be an integer';
  if (!Number.isSafeInteger(session.batch_seq) || (session.batch_seq as number) < 1) {
    return 'session.batch_seq must be an integer from 1';
  }
  if (typeof session.last_batch_flag !== 'boolean') return 'session.last_batch_flag must be a boolean';
  if (session.estimated_num_total !== undefined && !Number.isSafeInteger(session.estimated_num_total)) {
    return 'session.estimated_num_total must be an integer';
  }
  return undefined;
}

function parseJsonParam(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function graphError(code: number, message: string, type = 'GraphMethodException'): ScriptedAnswer {
  return { status: 400, body: { error: { message, type, code, fbtrace_id: 'AbCdEfGh123' } } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
