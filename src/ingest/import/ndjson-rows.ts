import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { RawRow, RowSource } from './row-source.js';

/** Newline-delimited JSON objects; a line that is not a JSON object becomes an error row. */
export function ndjsonRows(input: Readable): RowSource {
  return {
    columns: async () => undefined,
    async *rows(): AsyncIterable<RawRow> {
      let rowNumber = 0;
      for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
        rowNumber++;
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (err) {
          yield { rowNumber, error: `not valid JSON: ${(err as Error).message}`, raw: line };
          continue;
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          yield { rowNumber, error: 'each line must be a JSON object', raw: line };
          continue;
        }
        yield { rowNumber, values: value as Record<string, unknown> };
      }
    },
  };
}
