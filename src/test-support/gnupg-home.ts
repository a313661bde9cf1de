import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway GnuPG home with one key pair: the independent decrypter for PGP tests. */
export interface GnupgHome {
  /** The armored public key, as a destination's `pgpPublicKey`. */
  publicKey: string;
  /** Decrypts a file with GnuPG and answers the plaintext. */
  decrypt(path: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** Generates a key pair in a new GnuPG home; `sign-only` makes a key that cannot encrypt. */
export async function createGnupgHome(kind: 'encrypt' | 'sign-only' = 'encrypt'): Promise<GnupgHome> {
  const home = await mkdtemp(join(tmpdir(), 'gpg-'));
  const gpg = (args: string[]) =>
    run('gpg', ['--batch', '--homedir', home, ...args], { encoding: 'buffer', maxBuffer: 1 << 30 });
  const uid = 'Sluice Test <files@example.com>';
  // Curve keys generate at once; "sign" with no subkey leaves nothing that may encrypt.
  const usage = kind === 'encrypt' ? ['future-default', 'default'] : ['ed25519', 'sign'];
  await gpg(['--passphrase', '', '--quick-gen-key', uid, ...usage, 'never']);
  const { stdout } = await gpg(['--armor', '--export', 'files@example.com']);
  return {
    publicKey: stdout.toString('utf8'),
    decrypt: async (path) => (await gpg(['--decrypt', path])).stdout,
    async close() {
      await run('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']).catch(() => {});
      await rm(home, { recursive: true, force: true });
    },
  };
}
