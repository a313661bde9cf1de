import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../core/index.js';
import { batchOf, failingBatch } from '../../test-support/conformance.js';
import { createGnupgHome, type GnupgHome } from '../../test-support/gnupg-home.js';
import type { DeliveryRecord } from '../connector.js';
import { encodeBatch } from './file-encoder.js';
import { type FileOptions, FileOptionsSchema } from './file-options-schema.js';

const run = promisify(execFile);

/** Values a naive writer gets wrong: separators, quotes, line breaks, non-ASCII, empty versus null. */
const TRICKY: DeliveryRecord[] = [
  { id: 'p1', name: 'Smith, John', note: 'said "hi"', city: 'Zürich', orders: 3, score: 1.5, vip: true },
  {
    id: 'p2',
    name: 'line\nbreak',
    note: 'tab\there | pipe',
    city: '東京 🎉',
    orders: 0,
    score: -2,
    vip: false,
  },
  { id: 'p3', name: '', note: null, city: null, orders: null, score: 1e-7, vip: null },
  {
    id: 'p4',
    name: 'crlf\r\nend',
    note: "it's",
    city: 'Łódź',
    orders: 9007199254740991,
    score: 0.1,
    vip: true,
  },
];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'encode-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = (input: Partial<FileOptions> = {}) => FileOptionsSchema.parse(input);

/** Reads delimited text, giving `null` for empty unquoted fields so nulls and empty strings stay apart. */
function readDelimited(text: string, delimiter: string): (string | null)[][] {
  return parse(text, {
    delimiter,
    relax_column_count: false,
    cast: (value, context) => (value === '' && !context.quoting ? null : value),
  });
}

/** Read-back rows with the text of number fields as numbers: `1e-7` may come back as `1e-07`. */
const numbersOf = (rows: (string | null)[][], originals: readonly DeliveryRecord[]) =>
  rows.map((row, i) =>
    row.map((v, j) => (typeof Object.values(originals[i]!)[j] === 'number' && v !== null ? Number(v) : v)),
  );
const withHeader = (rows: unknown[]) => {
  const [header, ...body] = rows as (string | null)[][];
  return [header, ...numbersOf(body, TRICKY)];
};
const asValues = (row: DeliveryRecord) =>
  Object.values(row).map((v) =>
    v === null || typeof v === 'number' ? v : typeof v === 'string' ? v : String(v),
  );

describe('delimited formats', () => {
  it.each([
    ['csv', ','],
    ['tsv', '\t'],
    ['pipe', '|'],
  ] as const)(
    '%s: a header, then every value back as written, nulls apart from empty strings',
    async (format, delimiter) => {
      const { files } = await encodeBatch(batchOf(TRICKY), options({ format }), dir);
      expect(files).toHaveLength(1);
      const text = await readFile(files[0]!.path, 'utf8');
      const [header, ...body] = readDelimited(text, delimiter) as (string | null)[][];
      expect(header).toEqual(Object.keys(TRICKY[0]!));
      expect(numbersOf(body, TRICKY)).toEqual(TRICKY.map(asValues));
      expect(files[0]).toMatchObject({
        rows: 4,
        name: `Spring Sale_Treatment A_2026-03-14.${format === 'pipe' ? 'psv' : format}`,
      });
    },
  );

  it('leaves the header out when asked', async () => {
    const { files } = await encodeBatch(batchOf(TRICKY), options({ header: false }), dir);
    const rows = readDelimited(await readFile(files[0]!.path, 'utf8'), ',') as (string | null)[][];
    expect(numbersOf(rows, TRICKY)).toEqual(TRICKY.map(asValues));
  });

  it('writes the fields in the batch order, missing values as null and unknown keys left out', async () => {
    const rows = [{ b: 'x', a: 1, extra: 'ignored' }, { a: 2 }];
    const { files } = await encodeBatch(batchOf(rows, { fields: ['a', 'b'] }), options(), dir);
    expect(readDelimited(await readFile(files[0]!.path, 'utf8'), ',')).toEqual([
      ['a', 'b'],
      ['1', 'x'],
      ['2', null],
    ]);
  });

  it('copes with field names that need quoting in SQL and in the header', async () => {
    const rows = [{ 'first "nick" name': 'Al', 'a,b': 1, "it's": true }];
    const { files } = await encodeBatch(batchOf(rows), options({ format: 'ndjson' }), dir);
    expect(JSON.parse(await readFile(files[0]!.path, 'utf8'))).toEqual(rows[0]);
  });

  it('gzip: a .csv.gz that zlib reads back', async () => {
    const { files } = await encodeBatch(batchOf(TRICKY), options({ compression: 'gzip' }), dir);
    expect(files[0]!.name).toMatch(/\.csv\.gz$/);
    const text = gunzipSync(await readFile(files[0]!.path)).toString('utf8');
    expect(withHeader(readDelimited(text, ','))).toEqual([Object.keys(TRICKY[0]!), ...TRICKY.map(asValues)]);
  });

  it('zstd: a .tsv.zst that the zstd tool reads back', async () => {
    const { files } = await encodeBatch(
      batchOf(TRICKY),
      options({ format: 'tsv', compression: 'zstd' }),
      dir,
    );
    expect(files[0]!.name).toMatch(/\.tsv\.zst$/);
    const { stdout } = await run('/usr/bin/zstd', ['-dc', files[0]!.path]);
    expect(withHeader(readDelimited(stdout, '\t'))).toEqual([
      Object.keys(TRICKY[0]!),
      ...TRICKY.map(asValues),
    ]);
  });

  it('an empty batch is a file with only the header', async () => {
    const { files } = await encodeBatch(batchOf([], { fields: ['id', 'email'] }), options(), dir);
    expect(files).toMatchObject([{ rows: 0 }]);
    expect(await readFile(files[0]!.path, 'utf8')).toBe('id,email\n');
  });
});

describe('NDJSON', () => {
  it('one object per line, in order; numbers and booleans stay typed, null stays null', async () => {
    const { files } = await encodeBatch(
      batchOf(TRICKY),
      options({ format: 'ndjson', compression: 'zstd' }),
      dir,
    );
    expect(files[0]!.name).toMatch(/\.ndjson\.zst$/);
    const { stdout } = await run('/usr/bin/zstd', ['-dc', files[0]!.path]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.map((line) => JSON.parse(line))).toEqual(TRICKY);
  });

  it('a field mixing numbers and text is text throughout', async () => {
    const rows = [{ zip: 75001 }, { zip: 'SW1A 1AA' }, { zip: null }];
    const { files } = await encodeBatch(batchOf(rows), options({ format: 'ndjson' }), dir);
    const lines = (await readFile(files[0]!.path, 'utf8')).trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { zip: '75001' },
      { zip: 'SW1A 1AA' },
      { zip: null },
    ]);
  });

  it('NaN and infinities become null rather than invalid JSON', async () => {
    const rows = [{ x: Number.NaN }, { x: Number.POSITIVE_INFINITY }, { x: 2 }];
    const { files } = await encodeBatch(
      batchOf(rows),
      options({ format: 'ndjson', compression: 'gzip' }),
      dir,
    );
    const lines = gunzipSync(await readFile(files[0]!.path))
      .toString('utf8')
      .trimEnd()
      .split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([{ x: null }, { x: null }, { x: 2 }]);
  });
});

describe('Parquet', () => {
  let duck: DuckDBInstance;
  beforeAll(async () => {
    duck = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => duck.closeSync());

  const query = async (sql: string) => {
    const connection = await duck.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJS();
    } finally {
      connection.closeSync();
    }
  };

  it('typed columns, nulls and row order, with the column codec asked for', async () => {
    const { files } = await encodeBatch(
      batchOf(TRICKY),
      options({ format: 'parquet', compression: 'zstd' }),
      dir,
    );
    const path = files[0]!.path;
    expect(files[0]!.name).toBe('Spring Sale_Treatment A_2026-03-14.parquet');
    const types = await query(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${path}'))`,
    );
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      id: 'VARCHAR',
      name: 'VARCHAR',
      note: 'VARCHAR',
      city: 'VARCHAR',
      orders: 'BIGINT',
      score: 'DOUBLE',
      vip: 'BOOLEAN',
    });
    const rows = await query(`SELECT * FROM read_parquet('${path}')`);
    expect(rows.map((r) => ({ ...r, orders: r.orders === null ? null : Number(r.orders) }))).toEqual(TRICKY);
    const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
    expect(codecs.map((c) => c.compression)).toEqual(['ZSTD']);
  });

  it('compression none writes uncompressed columns', async () => {
    const { files } = await encodeBatch(batchOf(TRICKY), options({ format: 'parquet' }), dir);
    const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata('${files[0]!.path}')`);
    expect(codecs.map((c) => c.compression)).toEqual(['UNCOMPRESSED']);
  });
});

describe('parts', () => {
  const people = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `p${i}`, n: i }));

  it('splits past maxRowsPerFile into numbered parts that keep the order', async () => {
    const { files, doneMarkerName } = await encodeBatch(
      batchOf(people(5)),
      options({ maxRowsPerFile: 2 }),
      dir,
    );
    expect(files.map((f) => [f.name, f.rows])).toEqual([
      ['Spring Sale_Treatment A_2026-03-14_part001.csv', 2],
      ['Spring Sale_Treatment A_2026-03-14_part002.csv', 2],
      ['Spring Sale_Treatment A_2026-03-14_part003.csv', 1],
    ]);
    const ids = [];
    for (const file of files) {
      const [header, ...rows] = readDelimited(await readFile(file.path, 'utf8'), ',');
      expect(header).toEqual(['id', 'n']);
      ids.push(...rows.map((r) => r[0]));
    }
    expect(ids).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(doneMarkerName).toBe('Spring Sale_Treatment A_2026-03-14.csv.DONE');
  });

  it('a batch exactly at the limit is two full parts; one under it is a single unnumbered file', async () => {
    const atLimit = await encodeBatch(batchOf(people(4)), options({ maxRowsPerFile: 2 }), dir);
    expect(atLimit.files.map((f) => f.rows)).toEqual([2, 2]);
    const under = await encodeBatch(batchOf(people(2)), options({ maxRowsPerFile: 2 }), dir);
    expect(under.files.map((f) => f.name)).toEqual(['Spring Sale_Treatment A_2026-03-14.csv']);
  });

  it('parts of a typed format agree on each column type, even when one part saw only numbers', async () => {
    const rows = [{ code: 1 }, { code: 2 }, { code: 'A3' }];
    const { files } = await encodeBatch(batchOf(rows), options({ format: 'ndjson', maxRowsPerFile: 2 }), dir);
    const first = (await readFile(files[0]!.path, 'utf8')).trimEnd().split('\n');
    expect(first.map((line) => JSON.parse(line))).toEqual([{ code: '1' }, { code: '2' }]);
  });
});

describe('pieces of a large delimited file', () => {
  const people = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: `p${i}`, note: `line ${i}\nnext, "q"` }));
  const expected = (n: number) => people(n).map((p) => [p.id, p.note]);

  it('appends each piece to its file, with one header', async () => {
    const { files } = await encodeBatch(batchOf(people(7)), options(), dir, { rowsPerPiece: 2 });
    expect(files).toMatchObject([{ rows: 7 }]);
    expect(readDelimited(await readFile(files[0]!.path, 'utf8'), ',')).toEqual([
      ['id', 'note'],
      ...expected(7),
    ]);
  });

  it('gzip members and zstd frames of the pieces read back as one stream', async () => {
    const gz = await encodeBatch(batchOf(people(5)), options({ compression: 'gzip' }), dir, {
      rowsPerPiece: 2,
    });
    const gzText = gunzipSync(await readFile(gz.files[0]!.path)).toString('utf8');
    expect(readDelimited(gzText, ',')).toEqual([['id', 'note'], ...expected(5)]);
    const zst = await encodeBatch(batchOf(people(5)), options({ format: 'pipe', compression: 'zstd' }), dir, {
      rowsPerPiece: 2,
    });
    const { stdout } = await run('/usr/bin/zstd', ['-dc', zst.files[0]!.path]);
    expect(readDelimited(stdout, '|')).toEqual([['id', 'note'], ...expected(5)]);
  });

  it('pieces and parts together: each part has its header and its own rows', async () => {
    const { files } = await encodeBatch(batchOf(people(7)), options({ maxRowsPerFile: 3 }), dir, {
      rowsPerPiece: 2,
    });
    expect(files.map((f) => f.rows)).toEqual([3, 3, 1]);
    const all = [];
    for (const file of files) {
      const [header, ...rows] = readDelimited(await readFile(file.path, 'utf8'), ',');
      expect(header).toEqual(['id', 'note']);
      all.push(...rows);
    }
    expect(all).toEqual(expected(7));
  });

  it('rows failing after pieces went to DuckDB leave nothing behind', async () => {
    const batch = failingBatch(people(6), 5, 'store went away');
    await expect(encodeBatch(batch, options(), dir, { rowsPerPiece: 2 })).rejects.toThrow('store went away');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('OpenPGP encryption', () => {
  let gnupg: GnupgHome;
  beforeAll(async () => {
    gnupg = await createGnupgHome();
  });
  afterAll(async () => {
    await gnupg?.close();
  });

  it('encrypts each file to the key; GnuPG decrypts it to the plain file', async () => {
    const { files } = await encodeBatch(
      batchOf(TRICKY),
      options({ compression: 'gzip', pgpPublicKey: gnupg.publicKey, maxRowsPerFile: 3 }),
      dir,
    );
    expect(files.map((f) => f.name)).toEqual([
      'Spring Sale_Treatment A_2026-03-14_part001.csv.gz.gpg',
      'Spring Sale_Treatment A_2026-03-14_part002.csv.gz.gpg',
    ]);
    const rows = [];
    for (const file of files) {
      const cipher = await readFile(file.path);
      expect(cipher.includes('Smith')).toBe(false);
      const text = gunzipSync(await gnupg.decrypt(file.path)).toString('utf8');
      rows.push(...readDelimited(text, ',').slice(1));
    }
    expect(numbersOf(rows as (string | null)[][], TRICKY)).toEqual(TRICKY.map(asValues));
    // Only the encrypted files are left behind: no plaintext beside them.
    expect((await readdir(dir)).sort()).toEqual(files.map((f) => f.name).sort());
  });

  it('refuses a key that is not a public key, naming pgpPublicKey', async () => {
    const broken = gnupg.publicKey.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!');
    const error = await encodeBatch(batchOf(TRICKY), options({ pgpPublicKey: broken }), dir).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/^pgpPublicKey /);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a key that can only sign', async () => {
    const signOnly = await createGnupgHome('sign-only');
    try {
      const error = await encodeBatch(
        batchOf(TRICKY),
        options({ pgpPublicKey: signOnly.publicKey }),
        dir,
      ).catch((e) => e);
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toMatch(/^pgpPublicKey cannot encrypt/);
    } finally {
      await signOnly.close();
    }
  });
});

describe('failures', () => {
  it('rows that fail part-way leave no files and no spool behind', async () => {
    const batch = failingBatch(TRICKY, 2, 'store went away');
    await expect(encodeBatch(batch, options(), dir)).rejects.toThrow('store went away');
    expect(await readdir(dir)).toEqual([]);
  });

  it('a batch without fields is refused: there is nothing to write a file of', async () => {
    const error = await encodeBatch(batchOf([], { fields: [] }), options(), dir).catch((e) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error.code).toBe('no_fields');
  });

  it('an aborted delivery stops encoding', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(encodeBatch(batchOf(TRICKY), options(), dir, { signal: controller.signal })).rejects.toThrow(
      'shutting down',
    );
    expect(await readdir(dir)).toEqual([]);
  });
});
