import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/index.js';
import { batchOf } from '../../../test-support/conformance.js';
import { type S3TestServer, startS3Server } from '../../../test-support/s3-server.js';
import { secretFieldsOf } from '../../secret-fields.js';
import { s3Connector } from './s3-connector.js';

let server: S3TestServer;
let tempDir: string;

beforeAll(async () => {
  server = await startS3Server();
  tempDir = await mkdtemp(join(tmpdir(), 'sluice-s3-connector-'));
  await server.bucket('audiences');
});

afterAll(async () => {
  await server?.close();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

function contextFor(input: Record<string, unknown>) {
  const config = s3Connector.configSchema.parse({
    bucket: 'audiences',
    prefix: 'sluice/exports',
    endpoint: server.endpoint,
    forcePathStyle: true,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    ...input,
  });
  return { config, signal: new AbortController().signal, tempDir };
}

async function objectsUnder(prefix: string): Promise<Map<string, Buffer>> {
  const client = server.client();
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'audiences', Prefix: prefix }));
    const objects = new Map<string, Buffer>();
    for (const { Key } of listed.Contents ?? []) {
      const answer = await client.send(new GetObjectCommand({ Bucket: 'audiences', Key }));
      objects.set(Key ?? '', Buffer.from(await answer.Body!.transformToByteArray()));
    }
    return objects;
  } finally {
    client.destroy();
  }
}

describe('s3Connector', () => {
  it('declares its credentials secret', () => {
    expect(secretFieldsOf(s3Connector.configSchema).sort()).toEqual(['secretAccessKey', 'sessionToken']);
  });

  it('delivers a batch as a gzipped CSV and then its .DONE marker', async () => {
    const rows = [
      { profile_id: 'p1', email: 'ana@example.com', first_name: 'Ana' },
      { profile_id: 'p2', email: 'bo@example.com', first_name: 'Bo, "the second"' },
    ];
    const ctx = contextFor({ compression: 'gzip', doneMarker: true });
    const result = await s3Connector.deliver(ctx, batchOf(rows));
    expect(result.accepted).toBe(2);

    const objects = await objectsUnder('sluice/exports/');
    const name = 'sluice/exports/Spring Sale_Treatment A_2026-03-14.csv.gz';
    expect([...objects.keys()].sort()).toEqual([name, `${name}.DONE`]);
    const csv = parse(gunzipSync(objects.get(name)!), { columns: true });
    expect(csv).toEqual(rows);
    expect(objects.get(`${name}.DONE`)?.length).toBe(0);
  });

  it('test passes with good credentials and fails on a wrong secret, naming the field', async () => {
    await s3Connector.test(contextFor({}));
    const err = await s3Connector
      .test(contextFor({ secretAccessKey: 'not-the-secret' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).issues[0]?.path).toEqual(['secretAccessKey']);
  });
});
