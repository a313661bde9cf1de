import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './spawn-server.js';

const run = promisify(execFile);
/** OpenSSH's server, from Debian's openssh-server. */
const SSHD = '/usr/sbin/sshd';

/** The account the test sshd lets in: a login without a shell, made once per machine. */
const USERNAME = 'sluice-sftp-test';
/** Fixed, so that servers started at once by parallel test files agree on it. */
const PASSWORD = 'sluice-sftp-test-Pw1';

export interface SftpTestServer {
  host: string;
  port: number;
  username: string;
  password: string;
  /** An ed25519 key the server accepts, in OpenSSH format: its file and its text. */
  privateKeyPath: string;
  privateKey: string;
  /** The server's host key, as `ssh-keygen -l -E sha256` prints it: `SHA256:<base64>`. */
  hostKeyFingerprint: string;
  /** A folder the user may write into (the same path on the server: no chroot). */
  root: string;
  /** Lets in one more public key (an `authorized_keys` line). */
  authorizeKey(publicKey: string): Promise<void>;
  /** Runs OpenSSH's `sftp` client in batch mode (key auth) and answers what it printed. */
  sftpBatch(commands: string[]): Promise<string>;
  /** A remote file's bytes, fetched with OpenSSH's `sftp`. */
  readRemote(path: string): Promise<Buffer>;
  /** The names in a remote folder (dot files included), listed with OpenSSH's `sftp`. */
  listRemote(path: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Runs the real OpenSSH sshd on a free loopback port with a fresh host key, password and key
 * auth, and only the built-in SFTP server. Needs root (as in CI): sshd checks passwords against
 * /etc/shadow, so the test user is a real account, created when missing.
 */
export async function startSftpServer(): Promise<SftpTestServer> {
  if (process.getuid?.() !== 0) throw new Error('the SFTP test server runs sshd, which needs root');
  await access(SSHD).catch(() => {
    throw new Error(
      `the SFTP test server runs ${SSHD}, which is missing: install openssh-server (.ci/run does)`,
    );
  });
  const { uid, gid } = await ensureTestUser();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-sftp-'));
  // The user must reach `root` through this folder.
  await chmod(dir, 0o755);
  const root = join(dir, 'files');
  await mkdir(root);
  await chown(root, uid, gid);
  const hostKeyPath = join(dir, 'host_ed25519_key');
  const privateKeyPath = join(dir, 'client_ed25519_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sluice test host', '-f', hostKeyPath]);
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'sluice test client',
    '-f',
    privateKeyPath,
  ]);
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${privateKeyPath}.pub`));
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKeyPath}.pub`]);
  const hostKeyFingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(stdout)?.[0];
  if (!hostKeyFingerprint) throw new Error(`ssh-keygen printed no fingerprint: ${stdout}`);

  // sshd refuses to start without its privilege separation folder.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  const configPath = join(dir, 'sshd_config');
  await writeFile(configPath, sshdConfig(dir, port, hostKeyPath));
  const sshd = spawn(SSHD, ['-D', '-e', '-f', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  sshd.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => sshd.once('exit', () => resolve()));
  await waitForBanner(sshd, port, () => log);

  const clientArgs = [
    ...['-b', '-', '-P', String(port), '-i', privateKeyPath],
    ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'],
    `${USERNAME}@127.0.0.1`,
  ];
  const sftpBatch = (commands: string[]) => runSftp(clientArgs, commands);
  let fetched = 0;
  return {
    host: '127.0.0.1',
    port,
    username: USERNAME,
    password: PASSWORD,
    privateKeyPath,
    privateKey: await readFile(privateKeyPath, 'utf8'),
    hostKeyFingerprint,
    root,
    authorizeKey: (publicKey) => appendFile(authorizedKeys, `${publicKey.trim()}\n`),
    sftpBatch,
    readRemote: async (path) => {
      const local = join(dir, `fetched-${++fetched}`);
      await sftpBatch([`get ${quote(path)} ${quote(local)}`]);
      return readFile(local);
    },
    listRemote: async (path) => {
      const printed = await sftpBatch([`ls -1a ${quote(path)}`]);
      return printed
        .split('\n')
        .filter((line) => line && !line.startsWith('sftp>'))
        .map((line) => line.trim().split('/').pop() ?? '')
        .filter((name) => name !== '.' && name !== '..')
        .sort();
    },
    close: async () => {
      sshd.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function sshdConfig(dir: string, port: number, hostKeyPath: string): string {
  return [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${hostKeyPath}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    // Without PAM, sshd checks passwords against /etc/shadow itself.
    'UsePAM no',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    // The key files live under /tmp, which is world-writable: strict mode would refuse them.
    'StrictModes no',
    `AllowUsers ${USERNAME}`,
    'PermitRootLogin no',
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'Subsystem sftp internal-sftp',
    'ForceCommand internal-sftp',
    'LogLevel ERROR',
    '',
  ].join('\n');
}

/** Creates the test account when missing (a no-login shell: SFTP only) and sets its password. */
async function ensureTestUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => {
    const [uid, gid] = await Promise.all([run('id', ['-u', USERNAME]), run('id', ['-g', USERNAME])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    await ids();
  } catch {
    // A parallel test file may create it at the same moment: its success is as good as ours.
    await run('/usr/sbin/useradd', ['--create-home', '--shell', '/usr/sbin/nologin', USERNAME]).catch(
      () => undefined,
    );
  }
  const found = await ids();
  await new Promise<void>((resolve, reject) => {
    const child = execFile('/usr/sbin/chpasswd', (err) => (err ? reject(err) : resolve()));
    child.stdin?.end(`${USERNAME}:${PASSWORD}\n`);
  });
  return found;
}

/** Waits until sshd answers with its `SSH-2.0-` banner. */
async function waitForBanner(sshd: ChildProcess, port: number, log: () => string): Promise<void> {
  for (let i = 0; ; i++) {
    if (sshd.exitCode !== null) throw new Error(`sshd exited with ${sshd.exitCode}: ${log()}`);
    if (i > 100) throw new Error(`sshd did not answer on port ${port} within 10 s: ${log()}`);
    if (await answersBanner(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function answersBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('SSH-2.0-'));
    });
    socket.once('error', () => resolve(false));
  });
}

function runSftp(args: string[], commands: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('sftp', args, (err, stdout, stderr) => {
      if (err) reject(new Error(`sftp failed (${commands.join('; ')}): ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(`${commands.join('\n')}\n`);
  });
}

/** Quotes a path for an sftp batch line. */
function quote(path: string): string {
  return `"${path.replace(/(["\\])/g, '\\$1')}"`;
}
