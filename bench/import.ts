import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImportMappingSchema } from '../src/core/index.js';
import { importFile } from '../src/ingest/index.js';
import { openStore } from '../src/store/index.js';
import { report } from './support-server.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);

/** A 1,000,000-row customer CSV through the import pipeline into the embedded DuckDB store. */
export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-import-'));
  try {
    const path = join(dir, 'customers.csv');
    await writeCsv(path, ROWS);
    console.log(
      `generated ${ROWS.toLocaleString('en-US')} rows (${((await stat(path)).size / 1e6).toFixed(0)} MB)`,
    );
    const store = await openStore({ dataDir: join(dir, 'store') });
    const source = await store.sources.create({ name: 'crm', kind: 'profiles' });
    const mapping = ImportMappingSchema.parse({
      kind: 'profiles',
      recordId: 'customer_id',
      identifiers: { customer_id: 'customer_id', email: 'email', phone: 'phone' },
      attributes: {
        first_name: 'first_name',
        last_name: 'last_name',
        points: { column: 'points', type: 'integer' },
        signed_up: { column: 'signed_up', type: 'date' },
      },
    });
    const started = performance.now();
    const result = await importFile(store, { source, path, mapping });
    const seconds = (performance.now() - started) / 1000;
    const [{ n } = { n: 0 }] = await store.db.query<{ n: number }>(
      'SELECT count(*) AS n FROM profile_records',
    );
    await store.close();
    console.log(
      `imported ${result.rowsStored.toLocaleString('en-US')} rows (${n} in the store) in ${seconds.toFixed(2)} s`,
    );
    report(
      'import',
      {
        rows: result.rowsStored,
        seconds: Number(seconds.toFixed(2)),
        rows_per_s: Math.round(ROWS / seconds),
      },
      { seconds: 10 },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('customer_id,email,phone,first_name,last_name,points,signed_up\n');
  let chunk = '';
  for (let i = 1; i <= rows; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    chunk += `C${i},user${i}@example.com,+1415555${String(i % 10000).padStart(4, '0')},First${i % 977},Last${i % 1307},${i % 5000},2024-03-${day}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}
