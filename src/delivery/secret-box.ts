import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { UserError } from '../core/index.js';

const VERSION = 'v1';

/**
 * Encrypts destination credentials at rest with AES-256-GCM under a key derived (HKDF-SHA256)
 * from `SLUICE_SECRET_KEY`. The stored form is `v1.<iv>.<tag>.<ciphertext>` (base64url); a wrong
 * key fails the authentication tag instead of producing garbage.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(secretKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', secretKey, 'sluice', 'destination credentials', 32));
  }

  seal(values: Record<string, string>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** The secret values, or a UserError when they were sealed under another key. */
  open(sealed: string, owner: string): Record<string, string> {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || ciphertext === undefined) {
      throw new UserError('secret_unreadable', `${owner}: stored credentials are not in a known format`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as Record<string, string>;
    } catch {
      throw new UserError(
        'secret_key_mismatch',
        `${owner}: stored credentials cannot be decrypted with this SLUICE_SECRET_KEY (was it changed?); set the key they were saved with, or enter the credentials again`,
      );
    }
  }
}
