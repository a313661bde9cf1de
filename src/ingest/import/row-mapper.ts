import type { StoredEvent } from '../../core/index.js';
import {
  type ColumnSpec,
  type EventMapping,
  type ImportMapping,
  type Issue,
  type ProfileMapping,
  UserError,
} from '../../core/index.js';
import type { ProfileRecord } from '../../store/index.js';
import { normalizeEvent } from '../normalize-event.js';
import { convertValue } from './field-types.js';

export type MappedRow =
  | { kind: 'record'; record: ProfileRecord }
  | { kind: 'event'; event: StoredEvent }
  | { kind: 'reject'; reason: string; path: string | null };

export interface RowContext {
  sourceId: string;
  importId: string;
  /** Prefix of generated record ids and messageIds: stable for the same file content. */
  contentKey: string;
  receivedAt: Date;
}

/** Checks that every column the mapping names is in the file; lists all that are not. */
export function checkMappingColumns(mapping: ImportMapping, columns: readonly string[]): void {
  const have = new Set(columns);
  const issues: Issue[] = [];
  const need = (column: string, path: (string | number)[]) => {
    if (!have.has(column))
      issues.push({
        code: 'unknown_column',
        path: ['mapping', ...path],
        message: `no column "${column}" in the file`,
      });
  };
  const spec = (s: ColumnSpec | undefined, path: (string | number)[]) => {
    if (s !== undefined) need(typeof s === 'string' ? s : s.column, path);
  };
  if (mapping.kind === 'profiles') {
    if (mapping.recordId) need(mapping.recordId, ['recordId']);
    for (const [ns, cols] of Object.entries(mapping.identifiers)) {
      [cols].flat().forEach((c, i) => {
        need(c, Array.isArray(cols) ? ['identifiers', ns, i] : ['identifiers', ns]);
      });
    }
    for (const [name, s] of Object.entries(mapping.attributes)) spec(s, ['attributes', name]);
  } else {
    for (const f of ['messageId', 'userId', 'anonymousId'] as const) if (mapping[f]) need(mapping[f], [f]);
    if (mapping.event && 'column' in mapping.event) need(mapping.event.column, ['event', 'column']);
    spec(mapping.timestamp, ['timestamp']);
    for (const [name, s] of Object.entries(mapping.properties)) spec(s, ['properties', name]);
    for (const [name, s] of Object.entries(mapping.traits)) spec(s, ['traits', name]);
  }
  if (issues.length > 0) {
    throw new UserError(
      'unknown_column',
      `the mapping names columns that are not in the file: ${issues.map((i) => i.message.slice(13)).join(', ')}`,
      issues,
    );
  }
}

/** Turns one file row into a profile record, an event, or a reject with its reason. */
export function mapRow(
  mapping: ImportMapping,
  values: Record<string, unknown>,
  rowNumber: number,
  ctx: RowContext,
): MappedRow {
  return mapping.kind === 'profiles'
    ? mapProfile(mapping, values, rowNumber, ctx)
    : mapEvent(mapping, values, rowNumber, ctx);
}

function mapProfile(
  mapping: ProfileMapping,
  values: Record<string, unknown>,
  rowNumber: number,
  ctx: RowContext,
): MappedRow {
  const identifiers: Record<string, string[]> = {};
  for (const [namespace, cols] of Object.entries(mapping.identifiers)) {
    for (const col of [cols].flat()) {
      const v = cell(values, col);
      if (v === null || v === undefined) continue;
      const s = String(v).trim();
      if (s === '') continue;
      identifiers[namespace] ??= [];
      identifiers[namespace].push(s);
    }
  }
  if (Object.keys(identifiers).length === 0) {
    return {
      kind: 'reject',
      reason: `no identifier: none of ${Object.keys(mapping.identifiers).join(', ') || '(none mapped)'} has a value`,
      path: null,
    };
  }
  const attributes = convertFields(mapping.attributes, values);
  if ('error' in attributes) return { kind: 'reject', reason: attributes.error, path: attributes.path };
  const recordId = mapping.recordId ? String(cell(values, mapping.recordId) ?? '').trim() : '';
  return {
    kind: 'record',
    record: {
      recordId: recordId || `${ctx.contentKey}:${rowNumber}`,
      sourceId: ctx.sourceId,
      importId: ctx.importId,
      rowNumber,
      identifiers,
      attributes: attributes.fields,
      receivedAt: ctx.receivedAt,
    },
  };
}

function mapEvent(
  mapping: EventMapping,
  values: Record<string, unknown>,
  rowNumber: number,
  ctx: RowContext,
): MappedRow {
  const properties = convertFields(mapping.properties, values);
  if ('error' in properties) return { kind: 'reject', reason: properties.error, path: properties.path };
  const traits = convertFields(mapping.traits, values);
  if ('error' in traits) return { kind: 'reject', reason: traits.error, path: traits.path };
  let timestamp: unknown;
  if (mapping.timestamp) {
    const spec = typeof mapping.timestamp === 'string' ? { column: mapping.timestamp } : mapping.timestamp;
    const t = convertValue(
      cell(values, spec.column),
      'timestamp',
      'format' in spec ? spec.format : undefined,
    );
    if ('error' in t) return { kind: 'reject', reason: t.error, path: spec.column };
    timestamp = t.value;
  }
  const rowType = cell(values, 'type');
  const item = {
    type: typeof rowType === 'string' && rowType !== '' ? rowType : mapping.type,
    messageId: text(mapping.messageId && cell(values, mapping.messageId)) ?? `${ctx.contentKey}-${rowNumber}`,
    userId: text(mapping.userId && cell(values, mapping.userId)),
    anonymousId: text(mapping.anonymousId && cell(values, mapping.anonymousId)),
    event: mapping.event
      ? 'value' in mapping.event
        ? mapping.event.value
        : text(cell(values, mapping.event.column))
      : undefined,
    timestamp,
    properties: properties.fields,
    traits: traits.fields,
  };
  const result = normalizeEvent(item, undefined, ctx.sourceId, ctx.receivedAt, {}, []);
  if (result.ok) return { kind: 'event', event: result.event };
  const first = result.issues[0];
  return {
    kind: 'reject',
    reason: first?.message ?? 'invalid event',
    path: first ? first.path.join('.') : null,
  };
}

/** Segment-shaped NDJSON events need no mapping: each line is a call, `type` defaulting to track. */
export function mapSegmentEvent(
  values: Record<string, unknown>,
  rowNumber: number,
  ctx: RowContext,
): MappedRow {
  const item = { type: 'track', messageId: `${ctx.contentKey}-${rowNumber}`, ...values };
  const result = normalizeEvent(item, undefined, ctx.sourceId, ctx.receivedAt, {}, []);
  if (result.ok) return { kind: 'event', event: result.event };
  const first = result.issues[0];
  return {
    kind: 'reject',
    reason: first?.message ?? 'invalid event',
    path: first ? first.path.join('.') : null,
  };
}

function convertFields(
  specs: Record<string, ColumnSpec>,
  values: Record<string, unknown>,
): { fields: Record<string, unknown> } | { error: string; path: string } {
  const fields: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const s = typeof spec === 'string' ? { column: spec, type: 'string' as const } : spec;
    const converted = convertValue(cell(values, s.column), s.type, 'format' in s ? s.format : undefined);
    if ('error' in converted) return { error: `${s.column}: ${converted.error}`, path: s.column };
    if (converted.value !== null) fields[name] = converted.value;
  }
  return { fields };
}

/** A cell by column name; in nested (NDJSON) rows a dotted name walks into objects. */
function cell(values: Record<string, unknown>, column: string): unknown {
  if (column in values) return values[column];
  if (!column.includes('.')) return undefined;
  let v: unknown = values;
  for (const part of column.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function text(v: unknown): string | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  return typeof v === 'string' ? v.trim() || undefined : String(v);
}
