import type { Readable } from 'node:stream';
import { type CsvError, parse } from 'csv-parse';
import type { RawRow, RowSource } from './row-source.js';

/**
 * CSV with a header row. A malformed record (bad quoting, wrong number of columns) becomes an
 * error row with its line number; reading goes on.
 */
export function csvRows(input: Readable, delimiter: string): RowSource {
  let header: string[] | undefined;
  const skipped: RawRow[] = [];
  const parser = parse({
    delimiter,
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined, raw: string | undefined) => {
      const lines = Number((err as { lines?: number } | undefined)?.lines ?? 0);
      skipped.push({ rowNumber: lines, error: err?.message ?? 'malformed CSV record', raw: raw ?? null });
      return undefined;
    },
  });
  input.on('error', (err) => parser.destroy(err));
  const iterator = input.pipe(parser)[Symbol.asyncIterator]() as AsyncIterator<{
    record: string[];
    info: { lines: number };
  }>;
  // The first record is the header; it is read on demand so that the mapping can be checked first.
  let first: Promise<void> | undefined;
  const readHeader = () => {
    first ??= iterator.next().then((r) => {
      header = r.done ? [] : r.value.record.map((h) => h.trim());
    });
    return first;
  };
  return {
    async columns() {
      await readHeader();
      return header;
    },
    async *rows() {
      await readHeader();
      const columns = header ?? [];
      for (;;) {
        const next = await iterator.next();
        while (skipped.length > 0) yield skipped.shift()!;
        if (next.done) return;
        const { record, info } = next.value;
        if (record.length !== columns.length) {
          yield {
            rowNumber: info.lines,
            error: `expected ${columns.length} columns, found ${record.length}`,
            raw: record.join(delimiter),
          };
          continue;
        }
        const values: Record<string, unknown> = {};
        for (let i = 0; i < columns.length; i++) values[columns[i]!] = record[i];
        yield { rowNumber: info.lines, values };
      }
    },
  };
}
