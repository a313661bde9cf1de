import { randomBytes } from 'node:crypto';

/** A random id with a prefix that says what it names, e.g. `src_3kq9VJ2b7hQm1xZa`. */
export function newId(prefix: string, bytes = 12): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}
