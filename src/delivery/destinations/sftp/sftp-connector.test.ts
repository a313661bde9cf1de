import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/index.js';
import { batchOf } from '../../../test-support/conformance.js';
import { type SftpTestServer, startSftpServer } from '../../../test-support/sftp-server.js';
import { secretFieldsOf } from '../../secret-fields.js';
import { sftpConnector } from './sftp-connector.js';

let server: SftpTestServer;
let tempDir: string;

beforeAll(async () => {
  server = await startSftpServer();
  tempDir = await mkdtemp(join(tmpdir(), 'sluice-sftp-connector-'));
});

afterAll(async () => {
  await server?.close();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

function contextFor(input: Record<string, unknown>) {
  const config = sftpConnector.configSchema.parse({
    host: server.host,
    port: server.port,
    username: server.username,
    privateKey: server.privateKey,
    hostKeyFingerprint: server.hostKeyFingerprint,
    path: server.root,
    ...input,
  });
  return { config, signal: new AbortController().signal, tempDir };
}

describe('sftpConnector', () => {
  it('declares its credentials secret', () => {
    expect(secretFieldsOf(sftpConnector.configSchema).sort()).toEqual([
      'passphrase',
      'password',
      'privateKey',
    ]);
  });

  it('delivers a batch as a gzipped CSV and then its .DONE marker', async () => {
    const rows = [
      { profile_id: 'p1', email: 'ana@example.com', first_name: 'Ana' },
      { profile_id: 'p2', email: 'bo@example.com', first_name: 'Bo, "the second"' },
    ];
    const result = await sftpConnector.deliver(
      contextFor({ compression: 'gzip', doneMarker: true }),
      batchOf(rows),
    );
    expect(result.accepted).toBe(2);

    const name = 'Spring Sale_Treatment A_2026-03-14.csv.gz';
    expect(await server.listRemote(server.root)).toEqual([name, `${name}.DONE`]);
    const csv = parse(gunzipSync(await server.readRemote(`${server.root}/${name}`)), { columns: true });
    expect(csv).toEqual(rows);
    expect((await server.readRemote(`${server.root}/${name}.DONE`)).length).toBe(0);
  });

  it('refuses a config with both a password and a private key, naming the field', () => {
    const result = sftpConnector.configSchema.safeParse({
      host: server.host,
      username: server.username,
      path: server.root,
      privateKey: server.privateKey,
      password: server.password,
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]?.path).toEqual(['privateKey']);
  });

  it('test fails on a wrong password, naming the field', async () => {
    const err = await sftpConnector
      .test(contextFor({ privateKey: undefined, password: 'not-the-password' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).issues[0]?.path).toEqual(['password']);
  });
});
