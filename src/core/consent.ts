import { z } from 'zod';
import type { StoredEvent } from './event-schema.js';
import { isStorableTime } from './storable-time.js';

/**
 * A consent purpose (or channel): `email`, `sms`, `advertising`, ... Free-form, lowercase; what a
 * destination's `purpose` names and what profiles grant or withdraw.
 */
export const ConsentPurposeSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'a lowercase name: letters, digits, _ or -, starting with a letter');

/** One statement of consent: for a purpose, granted or withdrawn, as of a time. */
export interface ConsentStatement {
  purpose: string;
  granted: boolean;
  statedAt: Date;
  /** False when the time is only when Sluice received it (a record without `consent_<purpose>_at`). */
  dated: boolean;
}

const PURPOSE = /^[a-z][a-z0-9_-]{0,63}$/;
const GRANTS = new Set([
  'true',
  'yes',
  'y',
  '1',
  'on',
  'opt-in',
  'optin',
  'opted-in',
  'granted',
  'subscribed',
]);
const REFUSALS = new Set([
  'false',
  'no',
  'n',
  '0',
  'off',
  'opt-out',
  'optout',
  'opted-out',
  'denied',
  'withdrawn',
  'unsubscribed',
]);

/**
 * A consent value as a grant (true) or a refusal (false); undefined when it says neither (null,
 * empty, `unknown`), which is no statement at all. Booleans, 1 and 0, and words such as `yes`,
 * `opt-in`, `subscribed`, `no`, `opt-out`, `unsubscribed` (any case).
 */
export function consentValue(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase().replace(/[_ ]/g, '-');
  if (GRANTS.has(word)) return true;
  if (REFUSALS.has(word)) return false;
  return undefined;
}

/**
 * The consent an event states: its `context.consent` (purpose → value), and on an identify call
 * its `consent_<purpose>` traits, both as of the event's timestamp. Cheap when there is none (the
 * ingest hot path calls it for every event).
 */
export function consentOfEvent(e: StoredEvent): ConsentStatement[] {
  const fromContext = e.context.consent;
  const traits = e.type === 'identify' ? e.traits : undefined;
  if ((typeof fromContext !== 'object' || fromContext === null) && traits === undefined) return [];
  const out = new Map<string, boolean>();
  if (traits !== undefined) collectPrefixed(traits, out);
  if (typeof fromContext === 'object' && fromContext !== null && !Array.isArray(fromContext)) {
    // The explicit consent object says more than a trait of the same call.
    for (const [key, value] of Object.entries(fromContext)) put(out, key, value);
  }
  return [...out].map(([purpose, granted]) => ({ purpose, granted, statedAt: e.timestamp, dated: true }));
}

/**
 * The consent a profile record states in its `consent_<purpose>` attributes. Each is dated by the
 * record's `consent_<purpose>_at` attribute when that is a time, else by when the record was received.
 */
export function consentOfRecord(attributes: Record<string, unknown>, receivedAt: Date): ConsentStatement[] {
  const out = new Map<string, boolean>();
  collectPrefixed(attributes, out);
  return [...out].map(([purpose, granted]) => {
    const at = timeOf(attributes[`consent_${purpose}_at`]);
    return { purpose, granted, statedAt: at ?? receivedAt, dated: at !== undefined };
  });
}

function collectPrefixed(values: Record<string, unknown>, out: Map<string, boolean>): void {
  for (const key in values) {
    if (!key.startsWith('consent_') || key.endsWith('_at')) continue;
    put(out, key.slice('consent_'.length), values[key]);
  }
}

function put(out: Map<string, boolean>, key: string, value: unknown): void {
  const purpose = key.trim().toLowerCase();
  const granted = consentValue(value);
  if (granted !== undefined && PURPOSE.test(purpose)) out.set(purpose, granted);
}

/** A time both engines store (see `isStorableTime`), else undefined: the statement is undated. */
function timeOf(value: unknown): Date | undefined {
  const at = typeof value === 'string' && value.trim() !== '' ? new Date(value) : value;
  return at instanceof Date && isStorableTime(at.getTime()) ? at : undefined;
}
