import { assertNever, durationMs, type NumberTest, type ValueTest } from '../core/index.js';

/** A JSON value as text, the way SQL reads a JSON member (`json_extract_string`, `#>>`). */
export function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

// As the dialects' `NUMBER_PATTERN` (src/store/dialect.ts).
const NUMBER = /^\s*-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?\s*$/;

/** A JSON value as a number, or null when it is not one (as the dialects' `toNumber`). */
export function numberOf(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || !NUMBER.test(v)) return null;
  return Number(v);
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/**
 * A JSON value as epoch milliseconds when it is an ISO-8601 time (UTC unless it says otherwise),
 * read as PostgreSQL reads the same text: fields out of range (`2026-02-30`, `25:00`) make it no
 * time rather than rolling over, and a zone may be `+02`, `+0200` or `+02:00`. No surrounding
 * spaces, as the compiled SQL's pattern allows none.
 */
export function timeOf(v: unknown): number | null {
  const m = ISO_TIME.exec(textOf(v) ?? '');
  if (!m) return null;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map((x) => (x === undefined ? undefined : Number(x)));
  const [fraction, , sign, zoneHours, zoneMinutes = '0'] = m.slice(7);
  if (year === 0 || month! < 1 || month! > 12 || day! < 1 || day! > daysIn(year!, month!)) return null;
  if (hour > 24 || (hour === 24 && minute + second > 0) || minute > 59 || second > 60) return null;
  // PostgreSQL refuses these zones (`2026-03-01-02` is not read as a zone at all).
  if (Number(zoneHours) > 15 || Number(zoneMinutes) > 59 || (sign === '-' && m[4] === undefined)) return null;
  const t = new Date(0);
  t.setUTCFullYear(year!, month! - 1, day!);
  t.setUTCHours(hour, minute, second);
  // Microseconds, as the databases keep them.
  const micros = fraction === undefined ? 0 : Math.round(Number(fraction) * 1e6);
  const offsetMinutes =
    sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes));
  return t.getTime() + micros / 1000 - offsetMinutes * 60_000;
}

/** Days in a month (1-12) of the proleptic Gregorian calendar. */
function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A property of an event or profile by dotted path. */
export function valueAt(
  object: Record<string, unknown> | null | undefined,
  path: readonly string[],
): unknown {
  let v: unknown = object;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * Tests a value as the compiled SQL does, an unknown result counting as false: `not_equals` needs
 * a value, text tests ignore case.
 */
export function testValue(t: ValueTest, v: unknown, now: number): boolean {
  const text = textOf(v);
  switch (t.operator) {
    case 'equals':
      return equalsValue(v, text, t.value) === true;
    case 'not_equals':
      return equalsValue(v, text, t.value) === false;
    case 'in':
      return t.values.some((x) => equalsValue(v, text, x) === true);
    case 'contains':
      return text?.toLowerCase().includes(t.value.toLowerCase()) === true;
    case 'starts_with':
      return text?.toLowerCase().startsWith(t.value.toLowerCase()) === true;
    case 'greater_than':
    case 'less_than': {
      const n = numberOf(v);
      return n !== null && (t.operator === 'greater_than' ? n > t.value : n < t.value);
    }
    case 'between': {
      const n = numberOf(v);
      return n !== null && n >= t.min && n <= t.max;
    }
    case 'exists':
      return text !== null && text !== '';
    case 'is_empty':
      return text === null || text === '';
    case 'before':
    case 'after': {
      const time = timeOf(v);
      const bound = Date.parse(t.value);
      return time !== null && (t.operator === 'before' ? time < bound : time > bound);
    }
    case 'within_last': {
      const time = timeOf(v);
      return time !== null && time > now - durationMs(t) && time <= now;
    }
    case 'within_next': {
      const time = timeOf(v);
      return time !== null && time >= now && time < now + durationMs(t);
    }
    default:
      return assertNever(t);
  }
}

/** When a time test may next change its answer with no new data (`Infinity`: never). */
export function valueTestNextChange(t: ValueTest, v: unknown, now: number): number {
  if (t.operator !== 'within_last' && t.operator !== 'within_next') return Number.POSITIVE_INFINITY;
  const time = timeOf(v);
  if (time === null) return Number.POSITIVE_INFINITY;
  const span = durationMs(t);
  // within_last holds for now in [time, time + span); within_next for now in (time - span, time].
  const edges = t.operator === 'within_last' ? [time, time + span] : [time - span + 1, time + 1];
  return Math.min(...edges.filter((e) => e > now), Number.POSITIVE_INFINITY);
}

/** `true`, `false`, or `null` when unknown (no value, or not a number where one is needed). */
function equalsValue(v: unknown, text: string | null, expected: string | number | boolean): boolean | null {
  if (typeof expected === 'number') {
    const n = numberOf(v);
    return n === null ? null : n === expected;
  }
  return text === null ? null : text.toLowerCase() === String(expected).toLowerCase();
}

/** A count or aggregate compared as the compiled SQL does. */
export function testNumber(t: NumberTest, n: number | null): boolean {
  if (n === null) return false;
  switch (t.operator) {
    case 'at_least':
      return n >= t.value;
    case 'at_most':
      return n <= t.value;
    case 'exactly':
      return n === t.value;
    case 'greater_than':
      return n > t.value;
    case 'less_than':
      return n < t.value;
    case 'between':
      return n >= t.min && n <= t.max;
    default:
      return assertNever(t);
  }
}
