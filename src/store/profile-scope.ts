import { randomBytes } from 'node:crypto';
import type { Database } from './database.js';

/**
 * Lists `profileIds` in `profile_scope` under a scope id of their own, which scoped statements
 * join (`scopeFilter`): callers running at the same time (identity, segments, in this process or
 * another) never see each other's lists. Drop the scope when done (`dropProfileScope`).
 */
export async function fillProfileScope(db: Database, profileIds: readonly string[]): Promise<string> {
  const scope = randomBytes(9).toString('base64url');
  await db.bulkInsert(
    'profile_scope',
    ['profile_id', 'scope_id'],
    profileIds.map((p) => [p, scope]),
  );
  return scope;
}

export async function dropProfileScope(db: Database, scope: string | undefined): Promise<void> {
  if (scope !== undefined) await db.query('DELETE FROM profile_scope WHERE scope_id = $1', [scope]);
}

/** `WHERE` text limiting `column` to a scope, or (undefined) to known profiles. */
export function scopeFilter(column: string, scope: string | undefined): string {
  // The scope id is ours (base64url): safe as a literal.
  return scope === undefined
    ? `${column} IS NOT NULL`
    : `${column} IN (SELECT profile_id FROM profile_scope WHERE scope_id = '${scope}')`;
}
