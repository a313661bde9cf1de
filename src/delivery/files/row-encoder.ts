import type { DeliveryRecord } from '../connector.js';

/** Kinds of value seen in a column, or-ed together while encoding. */
export const SEEN_INTEGER = 1;
export const SEEN_FRACTION = 2;
export const SEEN_BOOLEAN = 4;
export const SEEN_TEXT = 8;

/**
 * Encodes `rows[start..end)` as CSV lines (fields in order, `,`-separated) and records in
 * `kinds[i]` what kinds of value field `i` held. `null` is an empty field and `""` a quoted empty
 * one; NaN and infinities, which CSV, JSON and Parquet numbers cannot hold, are null.
 */
export type RowEncoder = (
  rows: readonly DeliveryRecord[],
  start: number,
  end: number,
  kinds: number[],
) => string;

const NEEDS_QUOTES = /[",\n\r]/;

/**
 * Builds a `RowEncoder` for these fields. The function is generated with each field name written
 * out as a property access, so V8 reads every field of every row through a monomorphic inline
 * cache; looking fields up by a variable name costs about a third more on the hot path of
 * spooling tens of millions of rows. Field names enter the source only as JSON string literals.
 */
export function compileRowEncoder(fields: readonly string[]): RowEncoder {
  const cells = fields.map(
    (field, i) => `
    v = row[${JSON.stringify(field)}];
    if (v !== null && v !== undefined) {
      if (typeof v === 'string') {
        k${i} |= ${SEEN_TEXT};
        text += v === '' ? '""' : needsQuotes.test(v) ? '"' + v.replaceAll('"', '""') + '"' : v;
      } else if (typeof v === 'number') {
        if (Number.isFinite(v)) {
          k${i} |= Number.isSafeInteger(v) ? ${SEEN_INTEGER} : ${SEEN_FRACTION};
          text += String(v);
        }
      } else if (typeof v === 'boolean') {
        k${i} |= ${SEEN_BOOLEAN};
        text += v ? 'true' : 'false';
      } else {
        k${i} |= ${SEEN_TEXT};
        const s = String(v);
        text += needsQuotes.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
      }
    }
    text += ${i === fields.length - 1 ? "'\\n'" : "','"};`,
  );
  const source = `
    ${fields.map((_, i) => `let k${i} = kinds[${i}];`).join('\n')}
    let text = '';
    let v;
    for (let r = start; r < end; r++) {
      const row = rows[r];
      ${cells.join('\n')}
    }
    ${fields.map((_, i) => `kinds[${i}] = k${i};`).join('\n')}
    return text;`;
  const build = new Function(
    'needsQuotes',
    `return function encodeRows(rows, start, end, kinds) {${source}}`,
  );
  return build(NEEDS_QUOTES) as RowEncoder;
}
