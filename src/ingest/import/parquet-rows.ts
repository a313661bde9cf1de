import { DuckDBDatabase } from '../../store/index.js';
import type { RawRow, RowSource } from './row-source.js';

/** Parquet, read by an in-memory DuckDB chunk by chunk (whichever engine the store is). */
export function parquetRows(path: string): RowSource {
  const source = `read_parquet('${path.replaceAll("'", "''")}')`;
  return {
    async columns() {
      const db = await DuckDBDatabase.open(':memory:', 1);
      try {
        const rows = await db.query<{ column_name: string }>(
          `SELECT column_name FROM (DESCRIBE SELECT * FROM ${source})`,
        );
        return rows.map((r) => r.column_name);
      } finally {
        await db.close();
      }
    },
    async *rows(): AsyncIterable<RawRow> {
      const db = await DuckDBDatabase.open(':memory:', 1);
      try {
        let rowNumber = 0;
        for await (const chunk of db.stream(`SELECT * FROM ${source}`)) {
          for (const values of chunk) yield { rowNumber: ++rowNumber, values };
        }
      } finally {
        await db.close();
      }
    },
  };
}
