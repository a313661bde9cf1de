import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../core/index.js';
import { failureOf } from '../../../test-support/delivery.js';
import { type SftpTestServer, startSftpServer } from '../../../test-support/sftp-server.js';
import { freePort } from '../../../test-support/spawn-server.js';
import { DeliveryFailure } from '../../connector.js';
import { type FileTransport, withTransport } from '../../files/file-transport.js';
import { SftpTransportSchema } from './sftp-config-schema.js';
import { openSftpTransport } from './sftp-transport.js';

const WRONG_PASSWORD = 'wrong-password-Qz81';
const PASSPHRASE = 'correct horse battery staple';

let server: SftpTestServer;
let dir: string;
let pemKey: string;

beforeAll(async () => {
  server = await startSftpServer();
  dir = await mkdtemp(join(tmpdir(), 'sluice-sftp-test-'));
  // An RSA key in the older PEM format, encrypted with a passphrase.
  const keyPath = join(dir, 'pem_rsa_key');
  await promisify(execFile)('ssh-keygen', [
    '-q',
    '-t',
    'rsa',
    '-b',
    '2048',
    '-m',
    'PEM',
    '-N',
    PASSPHRASE,
    '-f',
    keyPath,
  ]);
  pemKey = await readFile(keyPath, 'utf8');
  await server.authorizeKey(await readFile(`${keyPath}.pub`, 'utf8'));
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function configFor(overrides: Record<string, unknown> = {}) {
  return SftpTransportSchema.parse({
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    path: server.root,
    ...overrides,
  });
}

/** Runs `use` on a transport opened with the test server's config plus `overrides`. */
function using<T>(overrides: Record<string, unknown>, use: (t: FileTransport) => Promise<T>): Promise<T> {
  return withTransport(
    openSftpTransport,
    { config: configFor(overrides), signal: new AbortController().signal, tempDir: dir },
    use,
  );
}

async function localFile(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function remoteFolder(name: string): Promise<string> {
  const path = `${server.root}/${name}`;
  await server.sftpBatch([`mkdir ${path}`]);
  return path;
}

function fieldsOf(err: Error): unknown[] {
  expect(err).toBeInstanceOf(UserError);
  return (err as UserError).issues.map((i) => i.path);
}

describe('SFTP transport against OpenSSH sshd', () => {
  it('logs in with a password and writes the file where OpenSSH sftp finds it', async () => {
    const folder = await remoteFolder('password');
    const content = 'profile_id,email\np1,a@example.com\n';
    const path = await localFile('a.csv', content);
    const result = await using({ path: folder }, (t) => t.put(path, 'Spring_Sale.csv'));
    expect(result).toEqual({
      location: `sftp://${server.host}:${server.port}${folder}/Spring_Sale.csv`,
      bytes: Buffer.byteLength(content),
    });
    expect((await server.readRemote(`${folder}/Spring_Sale.csv`)).toString()).toBe(content);
  });

  it('logs in with an OpenSSH private key, checking the host key fingerprint', async () => {
    const folder = await remoteFolder('key');
    const path = await localFile('k.csv', 'key auth\n');
    await using(
      {
        path: folder,
        password: undefined,
        privateKey: server.privateKey,
        hostKeyFingerprint: server.hostKeyFingerprint,
      },
      async (t) => {
        await t.check();
        await t.put(path, 'k.csv');
      },
    );
    expect((await server.readRemote(`${folder}/k.csv`)).toString()).toBe('key auth\n');
  });

  it('logs in with an encrypted PEM key and its passphrase, and names passphrase when it is wrong', async () => {
    const key = { password: undefined, privateKey: pemKey };
    await using({ ...key, passphrase: PASSPHRASE }, (t) => t.check());
    const err = await failureOf(using({ ...key, passphrase: 'not it' }, (t) => t.check()));
    expect(fieldsOf(err)).toEqual([['passphrase']]);
    expect(err.message).not.toContain('not it');
  });

  it('replaces an existing file and leaves no temporary file behind', async () => {
    const folder = await remoteFolder('replace');
    const first = await localFile('first.csv', 'old content, longer than the new\n');
    const second = await localFile('second.csv', 'new\n');
    await using({ path: folder }, async (t) => {
      await t.put(first, 'audience.csv');
      await t.put(second, 'audience.csv');
    });
    expect((await server.readRemote(`${folder}/audience.csv`)).toString()).toBe('new\n');
    expect(await server.listRemote(folder)).toEqual(['audience.csv']);
  });

  it('removes its temporary file when the final rename fails', async () => {
    const folder = await remoteFolder('failed-rename');
    // A folder where the file should go: the rename over it fails after the upload.
    await server.sftpBatch([`mkdir ${folder}/audience.csv`]);
    const path = await localFile('f.csv', 'x\n');
    const err = await failureOf(using({ path: folder }, (t) => t.put(path, 'audience.csv')));
    expect(err).toBeInstanceOf(DeliveryFailure);
    expect(await server.listRemote(folder)).toEqual(['audience.csv']);
  });

  it('an aborted put is retried later and writes nothing', async () => {
    const folder = await remoteFolder('aborted');
    const path = await localFile('aborted.csv', 'x\n');
    const controller = new AbortController();
    controller.abort();
    const transport = await openSftpTransport({
      config: configFor({ path: folder }),
      signal: controller.signal,
      tempDir: dir,
    });
    const err = await failureOf(transport.put(path, 'aborted.csv')).finally(() => transport.close());
    expect((err as DeliveryFailure).disposition).toBe('retry');
    expect(await server.listRemote(folder)).toEqual([]);
  });

  it('check passes on a writable folder and leaves nothing behind', async () => {
    const folder = await remoteFolder('checked');
    await using({ path: folder }, (t) => t.check());
    expect(await server.listRemote(folder)).toEqual([]);
  });

  it('check names password when the server refuses it, without quoting it', async () => {
    const err = await failureOf(using({ password: WRONG_PASSWORD }, (t) => t.check()));
    expect(fieldsOf(err)).toEqual([['password']]);
    expect(err.message).not.toContain(WRONG_PASSWORD);
  });

  it('refuses a server whose host key differs from the fingerprint, naming hostKeyFingerprint', async () => {
    const other = `SHA256:${'A'.repeat(43)}`;
    const err = await failureOf(using({ hostKeyFingerprint: other }, (t) => t.check()));
    expect(fieldsOf(err)).toEqual([['hostKeyFingerprint']]);
    expect(err.message).toContain(server.hostKeyFingerprint);
  });

  it('names path when the folder does not exist, in check and in put', async () => {
    const missing = `${server.root}/no-such-folder`;
    const err = await failureOf(using({ path: missing }, (t) => t.check()));
    expect(fieldsOf(err)).toEqual([['path']]);
    const path = await localFile('m.csv', 'x\n');
    const failure = await failureOf(using({ path: missing }, (t) => t.put(path, 'm.csv')));
    expect(failure).toBeInstanceOf(DeliveryFailure);
    expect((failure as DeliveryFailure).disposition).toBe('refused');
    expect(failure.message).toContain('no-such-folder');
  });

  it('a server that is not listening is a fault of the moment', async () => {
    const port = await freePort();
    const path = await localFile('r.csv', 'x\n');
    const attempts: ((t: FileTransport) => Promise<unknown>)[] = [
      (t) => t.check(),
      (t) => t.put(path, 'r.csv'),
    ];
    for (const attempt of attempts) {
      const err = await failureOf(using({ port }, attempt));
      expect(err).toBeInstanceOf(DeliveryFailure);
      expect((err as DeliveryFailure).disposition).toBe('retry');
    }
  });

  it('wants exactly one of password and privateKey', () => {
    const both = SftpTransportSchema.safeParse({ ...configFor(), privateKey: server.privateKey });
    expect(both.error?.issues.map((i) => i.path)).toEqual([['privateKey']]);
    const neither = SftpTransportSchema.safeParse({ ...configFor(), password: undefined });
    expect(neither.error?.issues.map((i) => i.path)).toEqual([['password']]);
  });
});
