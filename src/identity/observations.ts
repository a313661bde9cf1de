import type { StoredEvent } from '../core/index.js';
import { type EventIdentityRow, type RecordIdentityRow, storableText } from '../store/index.js';
import type { Identifier, ObservationRef } from './identity-graph.js';
import type { IdentifierNormalizer } from './normalize-identifier.js';

/** One event or profile record, reduced to the identifiers it carries. */
export interface Observation {
  ref: ObservationRef & { kind: 'event' | 'record' };
  identifiers: Identifier[];
  /** Values that were present but link nothing (blocked or malformed). */
  unusable: number;
}

/**
 * The identifiers of an event: `userId`, `anonymousId`, `context.traits.email`/`phone`, the traits
 * of an `identify`, `context.device.id`, and an alias's `previousId` (as a user id when one is
 * known by that value, else as an anonymous id).
 */
export function eventObservation(
  row: EventIdentityRow,
  normalizer: IdentifierNormalizer,
  isKnownUserId: (value: string) => boolean,
): Observation {
  const raw: [string, string | null][] = [
    ['user_id', row.user_id],
    ['anonymous_id', row.anonymous_id],
    ['email', row.context_email],
    ['phone', row.context_phone],
    ['device_id', row.device_id],
  ];
  if (row.type === 'identify') raw.push(['email', row.traits_email], ['phone', row.traits_phone]);
  if (row.type === 'alias' && row.previous_id) {
    raw.push([isKnownUserId(row.previous_id) ? 'user_id' : 'anonymous_id', row.previous_id]);
  }
  return build(
    { kind: 'event', seq: row.seq, sourceId: row.source_id, at: row.received_at },
    raw,
    normalizer,
  );
}

/**
 * Whether an event names identifiers besides its user and anonymous ids: the fields
 * `eventIdentityRow` reads for `eventObservation`, checked without building the row.
 */
export function namesOtherIdentifiers(e: StoredEvent): boolean {
  const present = (v: unknown) => v !== null && v !== undefined;
  const contextTraits = (e.context.traits ?? {}) as Record<string, unknown>;
  const device = (e.context.device ?? {}) as Record<string, unknown>;
  return (
    present(contextTraits.email) ||
    present(contextTraits.phone) ||
    present(device.id) ||
    (e.type === 'identify' && (present(e.traits.email) || present(e.traits.phone))) ||
    (e.type === 'alias' && present(e.previousId))
  );
}

/** The identifiers of a profile record, as its source's mapping named them. */
export function recordObservation(row: RecordIdentityRow, normalizer: IdentifierNormalizer): Observation {
  const raw: [string, string | null][] = [];
  for (const [namespace, values] of Object.entries(row.identifiers)) {
    for (const value of Array.isArray(values) ? values : [values]) raw.push([namespace, value]);
  }
  return build(
    { kind: 'record', seq: row.seq, sourceId: row.source_id, at: row.received_at },
    raw,
    normalizer,
  );
}

function build(
  ref: Observation['ref'],
  raw: readonly [string, string | null][],
  normalizer: IdentifierNormalizer,
): Observation {
  const identifiers: Identifier[] = [];
  let unusable = 0;
  for (const [namespace, value] of raw) {
    if (value === null || value === undefined) continue;
    const n = normalizer.normalize(namespace, value);
    if (n.ok) identifiers.push({ namespace, value: n.value });
    else if (n.reason !== 'empty') unusable++;
  }
  return { ref, identifiers, unusable };
}

/** The identifying fields of an event just stored, as the store would give them back. */
export function eventIdentityRow(seq: number, e: StoredEvent): EventIdentityRow {
  // As the store keeps text (storableText) and as its JSON accessors render members (JSON text
  // for anything but a string), so that a pass reads the same whether from memory or the store.
  const text = (v: unknown): string | null =>
    v === null || v === undefined ? null : storableText(typeof v === 'string' ? v : JSON.stringify(v));
  const column = (v: string | null) => (v === null ? null : storableText(v));
  const contextTraits = (e.context.traits ?? {}) as Record<string, unknown>;
  const device = (e.context.device ?? {}) as Record<string, unknown>;
  return {
    seq,
    source_id: e.sourceId,
    received_at: e.receivedAt,
    type: e.type,
    user_id: column(e.userId),
    anonymous_id: column(e.anonymousId),
    previous_id: column(e.previousId),
    context_email: text(contextTraits.email),
    context_phone: text(contextTraits.phone),
    traits_email: text(e.traits.email),
    traits_phone: text(e.traits.phone),
    device_id: text(device.id),
  };
}
