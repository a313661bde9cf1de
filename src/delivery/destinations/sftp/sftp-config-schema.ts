import { z } from 'zod';
import type { Issue } from '../../../core/index.js';
import { secret } from '../../secret-fields.js';

/** Where an SFTP destination writes: a folder on a server, reached with a password or a key. */
export const SftpTransportSchema = z
  .object({
    host: z.string().min(1).describe('Host name or IP address of the SFTP server'),
    port: z.int().min(1).max(65_535).default(22).describe('SSH port'),
    username: z.string().min(1).describe('User to log in as'),
    password: secret('Password (give either a password or a private key)').optional(),
    privateKey: secret(
      'Private key, OpenSSH or PEM format (give either a password or a private key)',
    ).optional(),
    passphrase: secret('Passphrase of the private key, when it is encrypted').optional(),
    hostKeyFingerprint: z
      .string()
      .regex(
        /^SHA256:[A-Za-z0-9+/]{43}=?$/,
        'must be a SHA256 fingerprint as ssh-keygen -l prints it: SHA256:<base64>',
      )
      .optional()
      .describe('The server host key fingerprint; when given, any other server is refused'),
    path: z
      .string()
      .min(1)
      .describe('Remote folder the files go into (absolute, or relative to the login folder)'),
  })
  .superRefine((config, ctx) => {
    for (const issue of credentialIssues(config)) ctx.addIssue({ ...issue, code: 'custom' });
  });

export type SftpTransportConfig = z.output<typeof SftpTransportSchema>;

/** Exactly one of `password` and `privateKey`; a `passphrase` only with a key. */
export function credentialIssues(
  config: Pick<SftpTransportConfig, 'password' | 'privateKey' | 'passphrase'>,
): Issue[] {
  const issue = (field: string, message: string): Issue => ({
    code: 'invalid_credentials',
    path: [field],
    message,
  });
  if (config.password !== undefined && config.privateKey !== undefined) {
    return [issue('privateKey', 'give either a password or a private key, not both')];
  }
  if (config.password === undefined && config.privateKey === undefined) {
    return [issue('password', 'give a password or a private key')];
  }
  if (config.passphrase !== undefined && config.privateKey === undefined) {
    return [issue('passphrase', 'a passphrase needs a private key')];
  }
  return [];
}
