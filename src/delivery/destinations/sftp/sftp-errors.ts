import { assertNever, UserError } from '../../../core/index.js';
import { DeliveryFailure } from '../../connector.js';
import type { SftpTransportConfig } from './sftp-config-schema.js';

type SftpField = keyof SftpTransportConfig;

/** A setting the server showed to be wrong: the user must change `field`. */
export class SftpConfigError extends Error {
  override readonly name = 'SftpConfigError';
  constructor(
    readonly field: SftpField,
    message: string,
  ) {
    super(message);
  }
}

/** What an SFTP error asks for: a config field fixed, or a later attempt. */
export type SftpProblem =
  | { kind: 'config'; field: SftpField; message: string }
  | { kind: 'transient'; message: string };

/** SFTP status codes (draft-ietf-secsh-filexfer-02 §7) that ssh2 passes on as `code`. */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

/** Reads an error from a connection or a file operation; never quotes a credential. */
export function classifySftpError(err: unknown, config: SftpTransportConfig): SftpProblem {
  if (err instanceof SftpConfigError) return { kind: 'config', field: err.field, message: err.message };
  const { code, message } = (err ?? {}) as { code?: string | number; message?: string };
  if (code === NO_SUCH_FILE || code === 'ENOENT') {
    return {
      kind: 'config',
      field: 'path',
      message: `folder ${config.path} does not exist on ${config.host}`,
    };
  }
  if (code === PERMISSION_DENIED || code === 'EACCES') {
    return {
      kind: 'config',
      field: 'path',
      message: `${config.username} may not write to folder ${config.path} on ${config.host}`,
    };
  }
  // Refused connections, DNS failures, handshake timeouts, dropped connections: try again later.
  return { kind: 'transient', message: `${config.host}:${config.port}: ${message ?? String(err)}` };
}

/** The error `check()` throws: a wrong setting names its field; a fault of the moment is retried. */
export function checkError(err: unknown, config: SftpTransportConfig): Error {
  const problem = classifySftpError(err, config);
  switch (problem.kind) {
    case 'config':
      return new UserError('destination_config', problem.message, [
        { code: 'destination_config', path: [problem.field], message: problem.message },
      ]);
    case 'transient':
      return new DeliveryFailure('retry', problem.message);
    default:
      return assertNever(problem);
  }
}

/** The error `put()` throws: a wrong setting goes to the dead letters; the rest is retried. */
export function deliveryError(err: unknown, config: SftpTransportConfig): DeliveryFailure {
  const problem = classifySftpError(err, config);
  return problem.kind === 'config'
    ? new DeliveryFailure('refused', `${problem.field}: ${problem.message}`)
    : new DeliveryFailure('retry', problem.message);
}
