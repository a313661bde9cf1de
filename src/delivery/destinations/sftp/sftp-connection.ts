import { createHash } from 'node:crypto';
import SftpClient from 'ssh2-sftp-client';
import { credentialIssues, type SftpTransportConfig } from './sftp-config-schema.js';
import { SftpConfigError } from './sftp-errors.js';

const READY_TIMEOUT_MS = 20_000;

/** A host key's fingerprint as `ssh-keygen -l -E sha256` prints it: `SHA256:` + unpadded base64. */
export function hostKeyFingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Opens an SFTP session. Throws `SftpConfigError` for what the user must fix (credentials the
 * server refused, a host key other than the configured one, a key that cannot be read); any other
 * error means the server could not be reached or dropped the connection.
 */
export async function connectSftp(config: SftpTransportConfig): Promise<SftpClient> {
  const [issue] = credentialIssues(config);
  if (issue) throw new SftpConfigError(issue.path[0] as keyof SftpTransportConfig, issue.message);
  // ssh2-sftp-client logs connection events to the console unless given listeners; errors
  // reach the caller through the rejected operation instead.
  const client = new SftpClient('sluice', { error: () => {}, end: () => {}, close: () => {} });
  let presentedKey: string | undefined;
  const expected = config.hostKeyFingerprint?.replace(/=$/, '');
  try {
    await client.connect({
      host: config.host,
      port: config.port,
      username: config.username,
      readyTimeout: READY_TIMEOUT_MS,
      ...(config.password === undefined ? {} : { password: config.password }),
      ...(config.privateKey === undefined ? {} : { privateKey: config.privateKey }),
      ...(config.passphrase === undefined ? {} : { passphrase: config.passphrase }),
      // Checked during key exchange, before any credential is sent to the server.
      ...(expected === undefined
        ? {}
        : {
            hostVerifier: (key: Buffer) => {
              presentedKey = hostKeyFingerprintOf(key);
              return presentedKey === expected;
            },
          }),
    });
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw connectError(err, config, presentedKey !== expected ? presentedKey : undefined);
  }
}

function connectError(err: unknown, config: SftpTransportConfig, rejectedKey: string | undefined): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (rejectedKey !== undefined) {
    return new SftpConfigError(
      'hostKeyFingerprint',
      `${config.host}:${config.port} presented host key ${rejectedKey}, not the configured fingerprint: refused`,
    );
  }
  if (message.includes('All configured authentication methods failed')) {
    const field = config.privateKey === undefined ? 'password' : 'privateKey';
    const what = field === 'password' ? 'the password' : 'the private key';
    return new SftpConfigError(field, `${config.host} refused ${what} for user ${config.username}`);
  }
  if (message.startsWith('Cannot parse privateKey')) {
    // ssh2 reads the key before connecting; its words say whether the passphrase is at fault.
    return /passphrase|decrypt/i.test(message)
      ? new SftpConfigError('passphrase', 'the private key could not be decrypted with this passphrase')
      : new SftpConfigError('privateKey', 'the private key is not in OpenSSH or PEM format');
  }
  return err;
}
