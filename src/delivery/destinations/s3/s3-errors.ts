import { assertNever, UserError } from '../../../core/index.js';
import { DeliveryFailure } from '../../connector.js';
import type { S3TransportConfig } from './s3-config-schema.js';

/** What an S3 error asks for: a config field fixed, a later attempt, or nothing (a refusal). */
export type S3Problem =
  | { kind: 'config'; field: keyof S3TransportConfig; message: string }
  | { kind: 'transient'; message: string }
  | { kind: 'refused'; message: string };

/** The shape of errors the AWS SDK throws (service errors carry `$metadata`, network errors a `code`). */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const TRANSIENT_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable']);

/** Reads an AWS SDK error as a problem the user or the outbox can act on; never quotes the secret. */
export function classifyS3Error(err: unknown, config: S3TransportConfig): S3Problem {
  const e = (err ?? {}) as SdkError;
  const status = statusOf(err);
  const where = config.endpoint ?? 'Amazon S3';
  if (e.name === 'AbortError') return { kind: 'transient', message: `the transfer to ${where} was stopped` };
  if (status === undefined) {
    // No HTTP answer at all: refused connection, DNS failure, timeout.
    return {
      kind: 'transient',
      message: `${where} could not be reached: ${e.code ?? e.message ?? String(err)}`,
    };
  }
  switch (e.name) {
    case 'InvalidAccessKeyId':
      return { kind: 'config', field: 'accessKeyId', message: `${where} does not know this access key id` };
    case 'SignatureDoesNotMatch':
      return {
        kind: 'config',
        field: 'secretAccessKey',
        message: `${where} refused the signature: the secret access key does not belong to access key id ${config.accessKeyId}`,
      };
    case 'InvalidToken':
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return {
        kind: 'config',
        field: 'sessionToken',
        message: `${where} refused the session token (${e.name})`,
      };
    case 'NoSuchBucket':
      return {
        kind: 'config',
        field: 'bucket',
        message: `bucket ${config.bucket} does not exist on ${where}`,
      };
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
      return {
        kind: 'config',
        field: 'region',
        message: `bucket ${config.bucket} is not in region ${config.region} (${e.name})`,
      };
  }
  if (status >= 500 || status === 408 || status === 429 || TRANSIENT_CODES.has(e.name ?? '')) {
    return { kind: 'transient', message: `${where} answered ${status}: ${e.name ?? 'error'}` };
  }
  // HEAD answers have no body, so only the status says what went wrong.
  if (status === 404) {
    return { kind: 'config', field: 'bucket', message: `bucket ${config.bucket} does not exist on ${where}` };
  }
  if (status === 301) {
    return {
      kind: 'config',
      field: 'region',
      message: `bucket ${config.bucket} is not in region ${config.region}`,
    };
  }
  if (status === 403) {
    return {
      kind: 'config',
      field: 'accessKeyId',
      message: `${where} denied access key id ${config.accessKeyId} the right to write to bucket ${config.bucket}`,
    };
  }
  return {
    kind: 'refused',
    message: `${where} answered ${status}: ${e.name ?? 'error'} ${e.message ?? ''}`.trim(),
  };
}

/** The HTTP status of an AWS SDK service error; undefined when no answer came. */
export function statusOf(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

/** The error `check()` throws: a config problem names its field; a fault of the moment is retried. */
export function checkError(err: unknown, config: S3TransportConfig): Error {
  const problem = classifyS3Error(err, config);
  switch (problem.kind) {
    case 'config':
      return new UserError('destination_config', problem.message, [
        { code: 'destination_config', path: [problem.field], message: problem.message },
      ]);
    case 'refused':
      return new UserError('destination_refused', problem.message);
    case 'transient':
      return new DeliveryFailure('retry', problem.message);
    default:
      return assertNever(problem);
  }
}

/** The error `put()` throws: only faults of the moment are retried; a bad setting goes to the dead letters. */
export function deliveryError(err: unknown, config: S3TransportConfig): DeliveryFailure {
  const problem = classifyS3Error(err, config);
  const message = problem.kind === 'config' ? `${problem.field}: ${problem.message}` : problem.message;
  const status = statusOf(err);
  return new DeliveryFailure(
    problem.kind === 'transient' ? 'retry' : 'refused',
    message,
    status === undefined ? {} : { status },
  );
}
