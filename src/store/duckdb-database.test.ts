import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDBDatabase } from './duckdb-database.js';

// Statements with parameters stay prepared on their connection and run again from there.
describe('DuckDB statements kept prepared', () => {
  let db: DuckDBDatabase;
  beforeEach(async () => {
    // One connection: every statement below runs on it, so each run after the first reuses it.
    db = await DuckDBDatabase.open(':memory:', 1);
    await db.query('CREATE TABLE t (a BIGINT, b VARCHAR)');
  });
  afterEach(async () => {
    await db.close();
  });

  it('binds new values on every run, of whatever type', async () => {
    await db.bulkInsert(
      't',
      ['a', 'b'],
      [
        [1, 'one'],
        [2, 'two'],
        [3, null],
      ],
    );
    const above = (n: number) => db.query('SELECT a, b FROM t WHERE a > $1 ORDER BY a', [n]);
    expect(await above(0)).toEqual([
      { a: 1, b: 'one' },
      { a: 2, b: 'two' },
      { a: 3, b: null },
    ]);
    expect(await above(2)).toEqual([{ a: 3, b: null }]);
    const echo = (v: string | number | boolean | null) => db.query('SELECT $1 AS v', [v]);
    expect(await echo(7)).toEqual([{ v: 7 }]);
    expect(await echo('text')).toEqual([{ v: 'text' }]);
    expect(await echo(true)).toEqual([{ v: true }]);
    expect(await echo(null)).toEqual([{ v: null }]);
  });

  it('sees the tables as they are now, not as they were when first prepared', async () => {
    await db.query('INSERT INTO t VALUES ($1, $2)', [1, 'one']);
    const all = () => db.query('SELECT * FROM t WHERE a >= $1', [0]);
    expect(await all()).toEqual([{ a: 1, b: 'one' }]);
    await db.query('ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 5');
    expect(await all()).toEqual([{ a: 1, b: 'one', c: 5 }]);
    await db.query('DROP TABLE t');
    await expect(all()).rejects.toThrow(/t does not exist/);
  });

  it('keeps a statement usable after a run failed', async () => {
    const cast = (v: string) => db.query('SELECT CAST($1 AS INTEGER) AS n', [v]);
    await expect(cast('abc')).rejects.toThrow(/Could not convert/);
    expect(await cast('12')).toEqual([{ n: 12 }]);
  });

  it('runs more distinct statements than it keeps, and again the first', async () => {
    for (let i = 0; i < 100; i++) {
      expect(await db.query(`SELECT $1 + ${i} AS n`, [1])).toEqual([{ n: 1 + i }]);
    }
    expect(await db.query('SELECT $1 + 0 AS n', [2])).toEqual([{ n: 2 }]);
  });

  it('runs several statements given together, the last with the parameters', async () => {
    const rows = await db.query(
      "INSERT INTO t VALUES (1, 'x'); SELECT count(*) AS n FROM t WHERE a = $1",
      [1],
    );
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('writes small batches as one statement each, rolled back whole when a row fails', async () => {
    await db.query('CREATE TABLE u (a BIGINT NOT NULL, b VARCHAR)');
    await db.bulkInsert('u', ['a', 'b'], [[1, 'a\\b']]);
    await expect(
      db.bulkInsert(
        'u',
        ['a', 'b'],
        [
          [2, 'kept?'],
          [null, 'no a'],
        ],
      ),
    ).rejects.toThrow(/NOT NULL/);
    expect(await db.query('SELECT a, b FROM u ORDER BY a')).toEqual([{ a: 1, b: 'a\\b' }]);
  });

  it('writes rows the text form cannot carry through the appender, rolled back whole when one fails', async () => {
    await db.query('CREATE TABLE u (a BIGINT NOT NULL, b VARCHAR)');
    await db.bulkInsert('u', ['a', 'b'], [[1, 'tab\there']]);
    await expect(
      db.bulkInsert(
        'u',
        ['a', 'b'],
        [
          [2, 'line\nbreak'],
          [null, 'no a'],
        ],
      ),
    ).rejects.toThrow(/Failed to append/);
    expect(await db.query('SELECT a, b FROM u ORDER BY a')).toEqual([{ a: 1, b: 'tab\there' }]);
  });
});
