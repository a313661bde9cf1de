import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The embedded store's secret key when `SLUICE_SECRET_KEY` is not set: `secret.key` in the data
 * directory, made on first use (readable by the owner only). Back it up with the store: without
 * it, stored credentials must be entered again.
 */
export async function embeddedSecretKey(dataDir: string): Promise<{ key: string; created: boolean }> {
  const path = join(dataDir, 'secret.key');
  try {
    return { key: (await readFile(path, 'utf8')).trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32).toString('base64url');
  // `wx`: two processes racing to create it keep the first one's key.
  await writeFile(path, `${key}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return { key: (await readFile(path, 'utf8')).trim(), created: true };
}
