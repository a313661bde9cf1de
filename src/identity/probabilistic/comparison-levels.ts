import { assertNever, type MatchComparison, type MatchField } from '../../core/index.js';
import { editDistanceBound, jaroWinklerBound } from './character-bounds.js';
import { editDistanceAt } from './edit-distance.js';
import { jaroWinklerAt } from './jaro-winkler.js';
import type { FieldValues, RecordColumns } from './record-columns.js';

/** Level codes shared by every field; the kind's own bands follow from `EXACT_LEVEL + 1` (or after `swapped`). */
export const NULL_LEVEL = 0;
export const ELSE_LEVEL = 1;
export const EXACT_LEVEL = 2;

/** Compares two records on one field and answers the level they fall in. */
export interface FieldComparator {
  readonly field: string;
  /** Level code → label, e.g. `['null', 'else', 'exact', 'jaro_winkler>=0.92']`. */
  readonly labels: readonly string[];
  level(left: number, right: number): number;
  /** The level when value codes alone decide it (missing, exact, swapped, or no bands), else -1. */
  quickLevel(left: number, right: number): number;
  /**
   * Where `quickLevel` leaves it open: the closest level cheap bounds still allow (the pair can
   * fall there or in any later band, or in else), found without comparing the strings.
   */
  reachableLevel(left: number, right: number): number;
  /** Levels `quickLevel` leaves to `level`: else and the bands. */
  readonly openLevels: readonly number[];
}

/**
 * Labels of a field's levels in code order: null, else, exact, swapped (with `swapWith`), then
 * the kind's bands from closest to furthest.
 */
export function levelLabels(field: MatchField): string[] {
  const labels = ['null', 'else', 'exact'];
  if (field.swapWith !== undefined) labels.push(`swapped_with_${field.swapWith}`);
  return labels.concat(bandLabels(field.comparison));
}

function bandLabels(comparison: MatchComparison): string[] {
  switch (comparison.kind) {
    case 'exact':
      return [];
    case 'jaro_winkler':
      return comparison.thresholds.map((t) => `jaro_winkler>=${t}`);
    case 'levenshtein':
      return comparison.maxEdits.map((e) => `edits<=${e}`);
    case 'numeric':
      return [
        ...comparison.absolute.map((a) => `difference<=${a}`),
        ...comparison.relative.map((r) => `relative_difference<=${r}`),
      ];
    case 'date':
      return [
        ...(comparison.maxEdits === undefined ? [] : [`edits<=${comparison.maxEdits}`]),
        ...comparison.days.map((d) => `days<=${d}`),
      ];
    default:
      return assertNever(comparison);
  }
}

/**
 * Band of two distinct non-missing values (by code), -1 when none holds, or `SAME` when they are
 * written differently but equal (`1977-05-01` and `19770501`, `100` and `100.0`). `reachable`
 * answers the same from cheap bounds only: the first band that may hold.
 */
interface Bands {
  band(a: number, b: number): number;
  reachable(a: number, b: number): number;
}
const SAME = -2;

/**
 * The levels value codes alone decide (see `FieldComparator.quickLevel`), for all fields at once
 * in one monomorphic loop: the hot path of matching, run for every candidate pair.
 */
export class QuickLevels {
  private readonly slots: Int32Array;
  private readonly swapSlots: Int32Array;
  private readonly undecided: Int32Array;

  constructor(fields: readonly MatchField[], columns: RecordColumns) {
    this.slots = Int32Array.from(fields, (f) => columns.slot(f.name));
    this.swapSlots = Int32Array.from(fields, (f) =>
      f.swapWith === undefined ? -1 : columns.swapSlot(f.name, f.swapWith),
    );
    this.undecided = Int32Array.from(fields, (f) => {
      const bands = levelLabels(f).length - (f.swapWith === undefined ? EXACT_LEVEL + 1 : EXACT_LEVEL + 2);
      return bands > 0 ? -1 : ELSE_LEVEL;
    });
    this.codes = columns.codes;
    this.stride = columns.stride;
  }

  private readonly codes: Int32Array;
  private readonly stride: number;

  /** Writes each field's level into `out`, -1 where the strings must be compared. */
  fill(left: number, right: number, out: Int32Array): void {
    const { codes, slots, swapSlots, undecided } = this;
    const l = left * this.stride;
    const r = right * this.stride;
    for (let k = 0; k < slots.length; k++) {
      const a = codes[l + slots[k]!]!;
      const b = codes[r + slots[k]!]!;
      const swap = swapSlots[k]!;
      out[k] =
        a < 0 || b < 0
          ? NULL_LEVEL
          : a === b
            ? EXACT_LEVEL
            : swap >= 0 && (a === codes[r + swap] || b === codes[l + swap])
              ? EXACT_LEVEL + 1
              : undecided[k]!;
    }
  }
}

/** Builds the comparator of `field` over encoded records. */
export function buildComparator(field: MatchField, columns: RecordColumns): FieldComparator {
  const { codes, stride } = columns;
  const slot = columns.slot(field.name);
  const swapSlot = field.swapWith === undefined ? -1 : columns.swapSlot(field.name, field.swapWith);
  const bands = bandsOf(field.comparison, columns.dictionary(field.name));
  const firstBand = swapSlot < 0 ? EXACT_LEVEL + 1 : EXACT_LEVEL + 2;
  const labels = levelLabels(field);
  const hasBands = labels.length > firstBand;
  const quickLevel = (left: number, right: number) => {
    const a = codes[left * stride + slot]!;
    const b = codes[right * stride + slot]!;
    if (a < 0 || b < 0) return NULL_LEVEL;
    if (a === b) return EXACT_LEVEL;
    if (swapSlot >= 0 && (a === codes[right * stride + swapSlot] || b === codes[left * stride + swapSlot])) {
      return EXACT_LEVEL + 1;
    }
    return hasBands ? -1 : ELSE_LEVEL;
  };
  const levelOf = (band: number) => (band >= 0 ? firstBand + band : band === SAME ? EXACT_LEVEL : ELSE_LEVEL);
  return {
    field: field.name,
    labels,
    openLevels: hasBands ? [ELSE_LEVEL, ...labels.slice(firstBand).map((_, i) => firstBand + i)] : [],
    quickLevel,
    level(left, right) {
      const quick = quickLevel(left, right);
      if (quick >= 0) return quick;
      return levelOf(bands.band(codes[left * stride + slot]!, codes[right * stride + slot]!));
    },
    reachableLevel(left, right) {
      return levelOf(bands.reachable(codes[left * stride + slot]!, codes[right * stride + slot]!));
    },
  };
}

function bandsOf(comparison: MatchComparison, dictionary: FieldValues): Bands {
  const values = dictionary.values;
  const chars = dictionary.characters();
  switch (comparison.kind) {
    case 'exact':
      return { band: () => -1, reachable: () => -1 };
    case 'jaro_winkler': {
      const thresholds = comparison.thresholds;
      const lowest = thresholds[thresholds.length - 1]!;
      const sets = dictionary.characterSets();
      const first = (similarity: number) => {
        if (similarity < lowest) return -1;
        let band = 0;
        while (similarity < thresholds[band]!) band++;
        return band;
      };
      return {
        band: (a, b) => (jaroWinklerBound(sets, a, b) < lowest ? -1 : first(jaroWinklerAt(chars, a, b))),
        reachable: (a, b) => first(jaroWinklerBound(sets, a, b)),
      };
    }
    case 'levenshtein': {
      const limits = comparison.maxEdits;
      const max = limits[limits.length - 1]!;
      const transpositions = comparison.transpositions;
      const sets = dictionary.characterSets();
      const first = (edits: number) => {
        if (edits > max) return -1;
        let band = 0;
        while (edits > limits[band]!) band++;
        return band;
      };
      return {
        band: (a, b) =>
          editDistanceBound(sets, a, b) > max ? -1 : first(editDistanceAt(chars, a, b, max, transpositions)),
        reachable: (a, b) => first(editDistanceBound(sets, a, b)),
      };
    }
    case 'numeric': {
      const numbers = Float64Array.from(values, Number);
      const { absolute, relative } = comparison;
      const band = (a: number, b: number) => {
        const x = numbers[a]!;
        const y = numbers[b]!;
        const diff = Math.abs(x - y);
        if (diff === 0) return SAME;
        for (let k = 0; k < absolute.length; k++) if (diff <= absolute[k]!) return k;
        const scale = Math.max(Math.abs(x), Math.abs(y));
        for (let k = 0; k < relative.length; k++)
          if (diff <= relative[k]! * scale) return absolute.length + k;
        return -1; // NaN (a value that is not a number) falls through every band
      };
      return { band, reachable: band };
    }
    case 'date': {
      const days = Float64Array.from(values, dayNumber);
      const edits = comparison.maxEdits;
      const bands = comparison.days;
      const offset = edits === undefined ? 0 : 1;
      const sets = dictionary.characterSets();
      const dayBand = (diff: number) => {
        for (let k = 0; k < bands.length; k++) if (diff <= bands[k]!) return offset + k;
        return -1;
      };
      return {
        band: (a, b) => {
          const diff = Math.abs(days[a]! - days[b]!);
          if (diff === 0) return SAME;
          if (
            edits !== undefined &&
            editDistanceBound(sets, a, b) <= edits &&
            editDistanceAt(chars, a, b, edits, true) <= edits
          ) {
            return 0;
          }
          return dayBand(diff);
        },
        reachable: (a, b) => {
          const diff = Math.abs(days[a]! - days[b]!);
          if (diff === 0) return SAME;
          if (edits !== undefined && editDistanceBound(sets, a, b) <= edits) return 0;
          return dayBand(diff);
        },
      };
    }
    default:
      return assertNever(comparison);
  }
}

const DATE = /^(\d{4})-?(\d{2})-?(\d{2})/;

/** Days since 1970-01-01 of `yyyymmdd` or `yyyy-mm-dd...`; NaN when it is not a calendar date. */
export function dayNumber(value: string): number {
  const m = DATE.exec(value);
  if (!m) return Number.NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return Number.NaN;
  return time / 86_400_000;
}
