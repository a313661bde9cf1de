import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/index.js';
import { failureOf } from '../../../test-support/delivery.js';
import { type S3TestServer, startS3Server } from '../../../test-support/s3-server.js';
import { freePort } from '../../../test-support/spawn-server.js';
import { DeliveryFailure } from '../../connector.js';
import { type FileTransport, withTransport } from '../../files/file-transport.js';
import { S3TransportSchema } from './s3-config-schema.js';
import { openS3Transport } from './s3-transport.js';

const WRONG_SECRET = 'wrong-secret-7Qx2';

let server: S3TestServer;
let dir: string;

beforeAll(async () => {
  server = await startS3Server();
  dir = await mkdtemp(join(tmpdir(), 'sluice-s3-test-'));
  await server.bucket('exports');
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function configFor(overrides: Record<string, unknown> = {}) {
  return S3TransportSchema.parse({
    bucket: 'exports',
    endpoint: server.endpoint,
    forcePathStyle: true,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    ...overrides,
  });
}

/** Runs `use` on a transport opened with the test server's config plus `overrides`. */
function using<T>(overrides: Record<string, unknown>, use: (t: FileTransport) => Promise<T>): Promise<T> {
  return withTransport(
    openS3Transport,
    { config: configFor(overrides), signal: new AbortController().signal, tempDir: dir },
    use,
  );
}

async function localFile(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function readObject(key: string, bucket = 'exports'): Promise<Buffer> {
  const client = server.client();
  try {
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await answer.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

async function keysUnder(prefix: string, bucket = 'exports'): Promise<string[]> {
  const client = server.client();
  try {
    const answer = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (answer.Contents ?? []).map((o) => o.Key ?? '').sort();
  } finally {
    client.destroy();
  }
}

describe('S3 transport against s3rver', () => {
  it('uploads a small file under the prefix and says where it went', async () => {
    const content = 'profile_id,email\np1,a@example.com\n';
    const path = await localFile('small.csv', content);
    const result = await using({ prefix: 'small' }, (t) => t.put(path, 'Spring_Sale.csv'));
    expect(result).toEqual({
      location: 's3://exports/small/Spring_Sale.csv',
      bytes: Buffer.byteLength(content),
    });
    expect((await readObject('small/Spring_Sale.csv')).toString()).toBe(content);
  });

  it('sends a file past the part size as a multipart upload of several parts, byte for byte', async () => {
    const content = randomBytes(20 * 1024 * 1024);
    const path = await localFile('big.bin', content);
    const before = server.requests().length;
    const result = await using({ prefix: 'big' }, (t) => t.put(path, 'big.bin'));
    expect(result.bytes).toBe(content.length);
    const partUploads = server
      .requests()
      .slice(before)
      .filter((r) => r.startsWith('PUT /exports/big/big.bin?') && r.includes('partNumber='));
    expect(partUploads.length).toBeGreaterThanOrEqual(3);
    const back = await readObject('big/big.bin');
    expect(createHash('sha256').update(back).digest('hex')).toBe(
      createHash('sha256').update(content).digest('hex'),
    );
  });

  it('replaces an object of the same name whole', async () => {
    const first = await localFile('first.csv', 'old content that is longer than the new one\n');
    const second = await localFile('second.csv', 'new\n');
    await using({ prefix: 'replace' }, async (t) => {
      await t.put(first, 'audience.csv');
      await t.put(second, 'audience.csv');
    });
    expect((await readObject('replace/audience.csv')).toString()).toBe('new\n');
    expect(await keysUnder('replace/')).toEqual(['replace/audience.csv']);
  });

  it('treats a trailing slash in the prefix as the same folder, and no prefix as the bucket root', async () => {
    const path = await localFile('p.csv', 'x\n');
    await using({ prefix: 'a/b/' }, (t) => t.put(path, 'one.csv'));
    await using({}, (t) => t.put(path, 'root-file.csv'));
    expect(await keysUnder('a/')).toEqual(['a/b/one.csv']);
    expect((await readObject('root-file.csv')).toString()).toBe('x\n');
  });

  it('refuses a prefix with a leading slash, naming the field', () => {
    const parsed = S3TransportSchema.safeParse({ ...configFor(), prefix: '/exports' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['prefix']);
  });

  it('check passes on a writable bucket and leaves nothing behind', async () => {
    await using({ prefix: 'checked' }, (t) => t.check());
    expect(await keysUnder('checked/')).toEqual([]);
  });

  it('check names secretAccessKey when the secret is wrong, without quoting it', async () => {
    const err = await failureOf(using({ secretAccessKey: WRONG_SECRET }, (t) => t.check()));
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).issues.map((i) => i.path)).toEqual([['secretAccessKey']]);
    expect(err.message).not.toContain(WRONG_SECRET);
  });

  it('check names accessKeyId when the store does not know the key', async () => {
    const err = await failureOf(using({ accessKeyId: 'NOBODY' }, (t) => t.check()));
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).issues.map((i) => i.path)).toEqual([['accessKeyId']]);
  });

  it('check names bucket when the bucket does not exist', async () => {
    const err = await failureOf(using({ bucket: 'no-such-bucket' }, (t) => t.check()));
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).issues.map((i) => i.path)).toEqual([['bucket']]);
    expect(err.message).toContain('no-such-bucket');
  });

  it('an unreachable endpoint is a fault of the moment, for check and put', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const path = await localFile('u.csv', 'x\n');
    const attempts: ((t: FileTransport) => Promise<unknown>)[] = [
      (t) => t.check(),
      (t) => t.put(path, 'u.csv'),
    ];
    for (const attempt of attempts) {
      const err = await failureOf(using({ endpoint }, attempt));
      expect(err).toBeInstanceOf(DeliveryFailure);
      expect((err as DeliveryFailure).disposition).toBe('retry');
      expect(err.message).toContain('could not be reached');
    }
  });

  it('an aborted put is retried later and leaves no object', async () => {
    const path = await localFile('aborted.bin', randomBytes(9 * 1024 * 1024));
    const controller = new AbortController();
    controller.abort();
    const transport = await openS3Transport({
      config: configFor({ prefix: 'aborted' }),
      signal: controller.signal,
      tempDir: dir,
    });
    const err = await failureOf(transport.put(path, 'aborted.bin')).finally(() => transport.close());
    expect(err).toBeInstanceOf(DeliveryFailure);
    expect((err as DeliveryFailure).disposition).toBe('retry');
    expect(await keysUnder('aborted/')).toEqual([]);
  });

  it('put with a wrong secret is refused for good and writes nothing', async () => {
    const path = await localFile('refused.csv', 'x\n');
    const err = await failureOf(
      using({ secretAccessKey: WRONG_SECRET, prefix: 'refused' }, (t) => t.put(path, 'r.csv')),
    );
    expect(err).toBeInstanceOf(DeliveryFailure);
    expect((err as DeliveryFailure).disposition).toBe('refused');
    expect(err.message).toContain('secretAccessKey');
    expect(err.message).not.toContain(WRONG_SECRET);
    expect(await keysUnder('refused/')).toEqual([]);
  });

  it('put into a missing bucket is refused for good, naming the bucket', async () => {
    const path = await localFile('nobucket.csv', 'x\n');
    const err = await failureOf(using({ bucket: 'missing-bucket' }, (t) => t.put(path, 'n.csv')));
    expect((err as DeliveryFailure).disposition).toBe('refused');
    expect(err.message).toContain('missing-bucket');
  });
});
