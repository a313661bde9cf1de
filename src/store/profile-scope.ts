import type { Database } from './database.js';

/** Lists `profileIds` in `profile_scope`, which scoped statements join (`IN (SELECT profile_id FROM profile_scope)`). */
export async function fillProfileScope(db: Database, profileIds: readonly string[]): Promise<void> {
  await db.query('DELETE FROM profile_scope');
  await db.bulkInsert(
    'profile_scope',
    ['profile_id'],
    profileIds.map((p) => [p]),
  );
}

/** `WHERE` text limiting `column` to the scope (`scoped`) or to known profiles. */
export function scopeFilter(column: string, scoped: boolean): string {
  return `${column} ${scoped ? 'IN (SELECT profile_id FROM profile_scope)' : 'IS NOT NULL'}`;
}
