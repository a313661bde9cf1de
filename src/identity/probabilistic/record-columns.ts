import { type CharacterSets, characterSets } from './character-bounds.js';
import { type CharacterBuffer, characterBuffer } from './character-buffer.js';
import type { MatchRecord } from './match-record.js';

/** The distinct normalized values of one field, coded 0..n-1 in order of first appearance. */
export class FieldValues {
  readonly values: string[] = [];
  /** Code of each value, and of each written form seen (`" Smith"` → the code of `smith`). */
  readonly codeOf = new Map<string, number>();
  private buffer: CharacterBuffer | undefined;
  private sets: CharacterSets | undefined;

  /** The values as one typed array, for the string comparisons. */
  characters(): CharacterBuffer {
    this.buffer ??= characterBuffer(this.values);
    return this.buffer;
  }

  characterSets(): CharacterSets {
    this.sets ??= characterSets(this.values);
    return this.sets;
  }
}

/**
 * Records as integer-coded rows: each field has its own dictionary of distinct values (trimmed,
 * lowercased; '' is missing), and each record a row of codes, -1 where a value is missing. Rows are
 * contiguous, so comparing two records touches two cache lines rather than one per field. A field
 * compared with another for swaps (`swapWith`) gets an extra slot: the other field's value coded
 * in this field's dictionary.
 */
export class RecordColumns {
  readonly stride: number;
  readonly codes: Int32Array;
  private readonly slots = new Map<string, number>();
  private readonly dictionaries = new Map<string, FieldValues>();

  constructor(
    readonly size: number,
    fields: readonly string[],
    swaps: readonly (readonly [field: string, other: string])[],
    row: (record: number) => Readonly<Record<string, unknown>>,
  ) {
    const distinct = [...new Set(fields)];
    const stride = distinct.length + swaps.length;
    const codes = new Int32Array(size * stride);
    const dictionaries = distinct.map(() => new FieldValues());
    // Record by record (not field by field): each record object is read from memory once.
    for (let r = 0; r < size; r++) {
      const values = row(r);
      for (let k = 0; k < distinct.length; k++) {
        const raw = values[distinct[k]!];
        let code = -1;
        if (raw !== null && raw !== undefined) {
          const text = typeof raw === 'string' ? raw : String(raw);
          code = dictionaries[k]!.codeOf.get(text) ?? addValue(dictionaries[k]!, text);
        }
        codes[r * stride + k] = code;
      }
    }
    distinct.forEach((field, k) => {
      this.slots.set(field, k);
      this.dictionaries.set(field, dictionaries[k]!);
    });
    swaps.forEach(([field, other], s) => {
      const slot = distinct.length + s;
      const otherSlot = this.slot(other);
      const codeOf = this.dictionary(field).codeOf;
      const translated = Int32Array.from(this.dictionary(other).values, (v) => codeOf.get(v) ?? -1);
      for (let r = 0; r < size; r++) {
        const code = codes[r * stride + otherSlot]!;
        codes[r * stride + slot] = code < 0 ? -1 : translated[code]!;
      }
      this.slots.set(swapKey(field, other), slot);
    });
    this.stride = stride;
    this.codes = codes;
  }

  static fromRecords(
    records: readonly MatchRecord[],
    fields: readonly string[],
    swaps: readonly (readonly [string, string])[] = [],
  ): RecordColumns {
    return new RecordColumns(records.length, fields, swaps, (r) => records[r]!.fields);
  }

  /** Position of `field` in each row. */
  slot(field: string): number {
    const slot = this.slots.get(field);
    if (slot === undefined) throw new Error(`field ${field} was not encoded`);
    return slot;
  }

  /** Position of `other`'s value coded in `field`'s dictionary. */
  swapSlot(field: string, other: string): number {
    return this.slot(swapKey(field, other));
  }

  dictionary(field: string): FieldValues {
    const dictionary = this.dictionaries.get(field);
    if (!dictionary) throw new Error(`field ${field} was not encoded`);
    return dictionary;
  }

  /** The codes of one field, one per record. */
  column(field: string): Int32Array {
    const slot = this.slot(field);
    const column = new Int32Array(this.size);
    for (let r = 0; r < this.size; r++) column[r] = this.codes[r * this.stride + slot]!;
    return column;
  }
}

function swapKey(field: string, other: string): string {
  return `${field}\u0000${other}`;
}

/** Codes a value not seen as written: normalized, it may still be known (`Smith ` is `smith`). */
function addValue(dictionary: FieldValues, text: string): number {
  const value = text.trim().toLowerCase();
  if (value === '') return -1;
  let code = dictionary.codeOf.get(value);
  if (code === undefined) {
    code = dictionary.values.length;
    dictionary.values.push(value);
    dictionary.codeOf.set(value, code);
  }
  // Remember the written form too, so the next identical one is found at once.
  if (value !== text) dictionary.codeOf.set(text, code);
  return code;
}
