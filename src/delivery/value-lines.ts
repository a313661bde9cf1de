import { storableJson } from '../store/index.js';
import type { DeliveryRecord } from './connector.js';

/**
 * Rows as "value lines": one JSON array of values per line, in `fields` order, each line ending
 * in a newline, e.g. `["prf_1","ann@example.com",12.5]\n`. The outbox stores rows this way (half
 * the size of objects) and file encoding hands the text to DuckDB's JSON reader as it is.
 */
export function toValueLines(fields: readonly string[], rows: readonly DeliveryRecord[]): string {
  let text = '';
  for (const row of rows) text += `${storableJson(fields.map((f) => row[f] ?? null))}\n`;
  return text;
}

/** The rows of a value-lines text, as records keyed by `fields`. */
export function fromValueLines(fields: readonly string[], text: string): DeliveryRecord[] {
  if (text.length === 0) return [];
  // One parse of the whole chunk: much faster than one per line.
  const values = JSON.parse(
    `[${text.slice(0, -1).replaceAll('\n', ',')}]`,
  ) as DeliveryRecord[keyof DeliveryRecord][][];
  return values.map((v) => {
    const record: DeliveryRecord = {};
    for (let i = 0; i < fields.length; i++) record[fields[i]!] = v[i] ?? null;
    return record;
  });
}
