import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** The part of s3rver's API used here (the package ships no types; it is a Koa app). */
type S3rverClass = new (options: {
  directory: string;
  silent: boolean;
}) => { callback(): (req: IncomingMessage, res: ServerResponse) => void };

export interface S3TestServer {
  /** `http://127.0.0.1:<port>`: needs path-style addressing. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Creates a bucket. */
  bucket(name: string): Promise<void>;
  /** A fresh AWS SDK client pointed at the server, to read back what a connector wrote. */
  client(): S3Client;
  /** Every request the server accepted so far, as `METHOD /path?query`. */
  requests(): string[];
  close(): Promise<void>;
}

const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';

/**
 * Runs s3rver on a free loopback port, its data in a temporary folder. s3rver does not check
 * Signature Version 4 signatures (it accepts any secret), so a check in front of it refuses a
 * wrong secret with `SignatureDoesNotMatch`, as S3 does.
 */
export async function startS3Server(): Promise<S3TestServer> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
  const directory = await mkdtemp(join(tmpdir(), 'sluice-s3-'));
  const handle = new S3rver({ directory, silent: true }).callback();
  const accepted: string[] = [];
  const http = createServer((req, res) => {
    const refusal = checkSignature(req);
    if (!refusal) {
      accepted.push(`${req.method} ${req.url}`);
      return handle(req, res);
    }
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal}</Code><Message>${refusal}</Message></Error>`,
    );
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
  const client = () => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  return {
    endpoint,
    ...credentials,
    client,
    requests: () => [...accepted],
    bucket: async (name) => {
      const s3 = client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        s3.destroy();
      }
    },
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Verifies an `Authorization: AWS4-HMAC-SHA256 ...` header as S3 does (AWS Signature Version 4:
 * canonical request, string to sign, derived signing key); answers the S3 error code, if any.
 * The payload hash is taken from `x-amz-content-sha256`, as S3 requires that header.
 */
function checkSignature(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return 'AccessDenied';
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
      header,
    );
  if (!match) return 'AuthorizationHeaderMalformed';
  const [, accessKeyId = '', scope = '', signedHeaders = '', signature = ''] = match;
  if (accessKeyId !== ACCESS_KEY_ID) return 'InvalidAccessKeyId';
  const [date = '', region = '', service = ''] = scope.split('/');
  const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
  const headerLines = signedHeaders.split(';').map((name) => {
    const value = req.headers[name];
    return `${name}:${(Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ')}`;
  });
  const canonicalRequest = [
    req.method,
    path,
    canonicalQuery(query),
    ...headerLines,
    '',
    signedHeaders,
    req.headers['x-amz-content-sha256'] ?? '',
  ].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    req.headers['x-amz-date'] ?? '',
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let key: Buffer = Buffer.from(`AWS4${SECRET_ACCESS_KEY}`);
  for (const part of [date, region, service, 'aws4_request']) key = hmac(key, part);
  return hmac(key, stringToSign).toString('hex') === signature ? undefined : 'SignatureDoesNotMatch';
}

function canonicalQuery(query: string): string {
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const [name = '', value = ''] = pair
        .split('=', 2)
        .map((s) => decodeURIComponent(s.replace(/\+/g, ' ')));
      return [uriEncode(name), uriEncode(value)] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
