import { describe, expect, it } from 'vitest';
import { ENGINES, openTestStore } from '../test-support/engines.js';
import { isUniqueViolation } from './dialect.js';

describe.each(ENGINES)('unique violations on %s', (engine) => {
  it('are told apart from other failed statements', async () => {
    const t = await openTestStore(engine);
    try {
      const insert = () =>
        t.store.db.query(
          'INSERT INTO sources (id, name, kind, description, write_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [`src_${Math.random()}`, 'twice', 'events', null, `wk_${Math.random()}`, new Date()],
        );
      await insert();
      const duplicate = await insert().catch((err: unknown) => err);
      expect(isUniqueViolation(duplicate)).toBe(true);
      const other = await t.store.db.query('SELECT * FROM no_such_table').catch((err: unknown) => err);
      expect(other).toBeInstanceOf(Error);
      expect(isUniqueViolation(other)).toBe(false);
    } finally {
      await t.cleanup();
    }
  });
});
