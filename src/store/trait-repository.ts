import type { ComputedTrait } from '../core/index.js';
import { NotFoundError, UserError } from '../core/index.js';
import type { Database } from './database.js';
import { placeholders, readJson } from './dialect.js';
import { dropProfileScope, fillProfileScope, scopeFilter } from './profile-scope.js';

/** Computed trait definitions and their values per profile. */
export class TraitRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<ComputedTrait[]> {
    const rows = await this.db.query<{ definition: unknown }>(
      'SELECT definition FROM computed_traits ORDER BY name',
    );
    return rows.map((r) => readJson(r.definition) as ComputedTrait);
  }

  async create(trait: ComputedTrait): Promise<ComputedTrait> {
    const exists = await this.db.query('SELECT 1 FROM computed_traits WHERE name = $1', [trait.name]);
    if (exists.length > 0)
      throw new UserError('conflict', `a computed trait named ${trait.name} exists already`);
    await this.db.query('INSERT INTO computed_traits (name, definition, created_at) VALUES ($1, $2, $3)', [
      trait.name,
      JSON.stringify(trait),
      new Date(),
    ]);
    return trait;
  }

  async delete(name: string): Promise<void> {
    const rows = await this.db.query('SELECT 1 FROM computed_traits WHERE name = $1', [name]);
    if (rows.length === 0) throw new NotFoundError('computed trait', name);
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM computed_traits WHERE name = $1', [name]);
      await tx.query('DELETE FROM profile_traits WHERE name = $1', [name]);
    });
  }

  /**
   * Replaces the values of `names` for the given profiles (all profiles when `profileIds` is
   * undefined) with `rows`, in one transaction.
   */
  async replaceValues(
    names: readonly string[],
    profileIds: readonly string[] | undefined,
    rows: readonly { profileId: string; name: string; value: unknown }[],
  ): Promise<void> {
    const now = new Date();
    await this.db.transaction(async (tx) => {
      if (names.length === 0) return;
      const named = `name IN (${placeholders(names.length)})`;
      if (profileIds === undefined) {
        await tx.query(`DELETE FROM profile_traits WHERE ${named}`, [...names]);
      } else if (profileIds.length > 0) {
        const scope = await fillProfileScope(tx, profileIds);
        await tx.query(`DELETE FROM profile_traits WHERE ${scopeFilter('profile_id', scope)} AND ${named}`, [
          ...names,
        ]);
        await dropProfileScope(tx, scope);
      }
      await tx.bulkInsert(
        'profile_traits',
        ['profile_id', 'name', 'value', 'updated_at'],
        rows
          .filter((r) => names.includes(r.name))
          .map((r) => [
            r.profileId,
            r.name,
            JSON.stringify(r.value instanceof Date ? r.value.toISOString() : r.value),
            now,
          ]),
      );
    });
  }
}
