import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createMessage, encrypt, type Key, readKey } from 'openpgp';
import { UserError } from '../../core/index.js';

/** Reads an armored OpenPGP public key that can encrypt; anything else is a UserError naming `pgpPublicKey`. */
export async function readEncryptionKey(armoredKey: string): Promise<Key> {
  let key: Key;
  try {
    key = await readKey({ armoredKey });
  } catch (err) {
    throw keyError(`is not a readable OpenPGP public key (${(err as Error).message})`);
  }
  if (key.isPrivate()) throw keyError('is a private key: give the public key only');
  try {
    // Throws when no key or subkey may encrypt now (expired, revoked, signing-only).
    await key.getEncryptionKey();
  } catch (err) {
    throw keyError(`cannot encrypt (${(err as Error).message})`);
  }
  return key;
}

/** Encrypts a file to `key` as a binary OpenPGP message, streaming it (never loading it whole). */
export async function encryptFile(
  inputPath: string,
  outputPath: string,
  key: Key,
  name: string,
): Promise<void> {
  const plain = Readable.toWeb(createReadStream(inputPath)) as unknown as ReadableStream<Uint8Array>;
  const message = await createMessage({ binary: plain, filename: name, format: 'binary' });
  const encrypted = await encrypt({ message, encryptionKeys: key, format: 'binary' });
  await pipeline(
    Readable.fromWeb(encrypted as unknown as NodeReadableStream<Uint8Array>),
    createWriteStream(outputPath),
  );
}

function keyError(problem: string): UserError {
  const message = `pgpPublicKey ${problem}`;
  return new UserError('invalid_pgp_key', message, [
    { code: 'invalid_pgp_key', path: ['pgpPublicKey'], message },
  ]);
}
