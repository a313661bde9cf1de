import { assertNever, type FieldType } from '../../core/index.js';

export type Converted = { value: unknown } | { error: string };

const TRUE = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0']);

/**
 * Converts a raw cell to `type`. Empty cells are `null` (absent), never an error. `format` is a date
 * pattern such as `M/d/yyyy H:mm` for values that are not ISO-8601.
 */
export function convertValue(raw: unknown, type: FieldType, format?: string): Converted {
  if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === ''))
    return { value: null };
  switch (type) {
    case 'string':
      return {
        value:
          typeof raw === 'string'
            ? raw
            : raw instanceof Date
              ? raw.toISOString()
              : typeof raw === 'object'
                ? JSON.stringify(raw)
                : String(raw),
      };
    case 'number': {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      return Number.isFinite(n) ? { value: n } : { error: `${JSON.stringify(raw)} is not a number` };
    }
    case 'integer': {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      return Number.isInteger(n) ? { value: n } : { error: `${JSON.stringify(raw)} is not an integer` };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      const s = String(raw).trim().toLowerCase();
      if (TRUE.has(s)) return { value: true };
      if (FALSE.has(s)) return { value: false };
      return { error: `${JSON.stringify(raw)} is not a boolean (true/false, yes/no, 1/0)` };
    }
    case 'date': {
      const d = parseTime(raw, format);
      return d
        ? { value: d.toISOString().slice(0, 10) }
        : { error: `${JSON.stringify(raw)} is not a date${format ? ` in the format ${format}` : ''}` };
    }
    case 'timestamp': {
      const d = parseTime(raw, format);
      return d
        ? { value: d.toISOString() }
        : { error: `${JSON.stringify(raw)} is not a timestamp${format ? ` in the format ${format}` : ''}` };
    }
    default:
      return assertNever(type);
  }
}

/** Parses ISO-8601, epoch milliseconds, a Date, or a `format` pattern (taken as UTC). */
export function parseTime(raw: unknown, format?: string): Date | undefined {
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? undefined : raw;
  if (typeof raw === 'number') return new Date(raw);
  const s = String(raw).trim();
  if (format) return parseWithFormat(s, format);
  // Date.parse takes many non-standard shapes; accept only ISO-8601-like text.
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s))
    return undefined;
  const d = new Date(
    s.length === 10 ? `${s}T00:00:00Z` : /Z|[+-]\d{2}:?\d{2}$/.test(s) ? s : `${s.replace(' ', 'T')}Z`,
  );
  if (Number.isNaN(d.getTime())) return undefined;
  // Date rolls 2024-02-30 over to March 1; a calendar date that does not exist is an error.
  const [y, m, day] = s.slice(0, 10).split('-').map(Number);
  const calendar = new Date(Date.UTC(y!, m! - 1, day!));
  return calendar.getUTCMonth() === m! - 1 && calendar.getUTCDate() === day ? d : undefined;
}

const TOKENS: Record<string, string> = {
  yyyy: '(\\d{4})',
  MM: '(\\d{2})',
  M: '(\\d{1,2})',
  dd: '(\\d{2})',
  d: '(\\d{1,2})',
  HH: '(\\d{2})',
  H: '(\\d{1,2})',
  mm: '(\\d{2})',
  ss: '(\\d{2})',
};
const formatCache = new Map<string, { re: RegExp; fields: string[] }>();

function parseWithFormat(s: string, format: string): Date | undefined {
  let compiled = formatCache.get(format);
  if (!compiled) {
    const fields: string[] = [];
    const pattern = format.replace(/yyyy|MM|M|dd|d|HH|H|mm|ss|[.*+?^${}()|[\]\\]/g, (t) => {
      const group = TOKENS[t];
      if (!group) return `\\${t}`;
      fields.push(t[0]!);
      return group;
    });
    compiled = { re: new RegExp(`^${pattern}$`), fields };
    formatCache.set(format, compiled);
  }
  const m = compiled.re.exec(s);
  if (!m) return undefined;
  const part: Record<string, number> = { y: 1970, M: 1, d: 1, H: 0, m: 0, s: 0 };
  compiled.fields.forEach((f, i) => {
    part[f] = Number(m[i + 1]);
  });
  const d = new Date(Date.UTC(part.y!, part.M! - 1, part.d!, part.H!, part.m!, part.s!));
  // Reject rollovers such as 2/30.
  return d.getUTCMonth() === part.M! - 1 && d.getUTCDate() === part.d! ? d : undefined;
}
