import { DeliveryFailure } from '../../connector.js';

// Socket-level codes from node: the server may be back in a moment.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

// SQLSTATE classes that describe the moment, not the request: connection faults (08), lack of
// resources (53), operator intervention (57), rollbacks from serialization or deadlock (40), and
// system errors (58).
const TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58']);

/**
 * Turns an error from `pg` into a `DeliveryFailure`: unreachable servers and transient SQLSTATEs
 * are retried; bad credentials, unknown databases and SQL the server refuses are refused. The
 * message names the server and database, never the password.
 */
export function postgresFailure(err: unknown, connectionString: string): DeliveryFailure {
  const where = describeServer(connectionString);
  const { code, message } = err as { code?: unknown; message?: unknown };
  const text = redact(typeof message === 'string' ? message : String(err), connectionString);
  const sqlState = typeof code === 'string' ? code : '';
  if (NETWORK_CODES.has(sqlState))
    return new DeliveryFailure('retry', `${where}: cannot reach the server (${sqlState})`);
  switch (sqlState) {
    case '28P01':
      return new DeliveryFailure(
        'refused',
        `${where}: ${text}: check the user and password in connectionString`,
      );
    case '28000':
      return new DeliveryFailure('refused', `${where}: ${text}: check the user in connectionString`);
    case '3D000':
      return new DeliveryFailure('refused', `${where}: ${text}: check the database in connectionString`);
    case '55P03':
      return new DeliveryFailure('retry', `${where}: ${text}`);
  }
  if (TRANSIENT_CLASSES.has(sqlState.slice(0, 2))) return new DeliveryFailure('retry', `${where}: ${text}`);
  if (/^[0-9A-Z]{5}$/.test(sqlState))
    return new DeliveryFailure('refused', `${where}: ${text} (SQLSTATE ${sqlState})`);
  // No SQLSTATE: the connection timed out or dropped before the server answered.
  return new DeliveryFailure('retry', `${where}: ${text}`);
}

/** `postgres 127.0.0.1:5432/test`, from a connection string, without user or password. */
export function describeServer(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `postgres ${url.host || 'localhost'}${url.pathname}`;
  } catch {
    return 'postgres';
  }
}

/** Removes the password (raw and decoded) from a message, should a driver ever echo it. */
export function redact(text: string, connectionString: string): string {
  let password = '';
  try {
    password = new URL(connectionString).password;
  } catch {
    return text.replaceAll(connectionString, '<connectionString>');
  }
  let out = text.replaceAll(connectionString, '<connectionString>');
  for (const secretText of new Set([password, safeDecode(password)])) {
    if (secretText) out = out.replaceAll(secretText, '***');
  }
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
