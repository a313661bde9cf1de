import { createHash } from 'node:crypto';
import type { CountryCode } from 'libphonenumber-js/max';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { ConnectorField, DeliveryBatch, DeliveryRecord, DeliveryResult } from './connector.js';

/**
 * The person fields ad platforms match on, as an activation maps them. `email` and `phone` name a
 * person alone; names only together with a postal code and a country.
 */
export const AD_PERSON_FIELDS: readonly ConnectorField[] = [
  { name: 'email', description: 'Email address', identifier: true },
  { name: 'phone', description: 'Phone number (E.164 or national to the default country)', identifier: true },
  { name: 'first_name', description: 'First name' },
  { name: 'last_name', description: 'Last name' },
  { name: 'city', description: 'City' },
  { name: 'state', description: 'State or region (US: name or two-letter code)' },
  { name: 'zip', description: 'Postal code' },
  { name: 'country', description: 'Country, ISO 3166-1 alpha-2' },
];

/** The normalized, not yet hashed, values of one row. Values already hashed (64 hex) stay as they came. */
export interface AdPerson {
  email?: string;
  /** E.164 with the `+` (Meta hashes it without). */
  phone?: string;
  firstName?: string;
  lastName?: string;
  city?: string;
  state?: string;
  zip?: string;
  country?: string;
}

export type AdPersonResult = { ok: true; person: AdPerson } | { ok: false; reason: string };

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/** Whether a value is already a SHA-256 digest (64 hex characters), to be sent as it is. */
export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/** SHA-256 as lowercase hex, leaving values that already are digests alone: `hashIdentifier('us')` → `79adb2a2…`. */
export function hashIdentifier(normalized: string): string {
  if (isSha256Hex(normalized)) return normalized.toLowerCase();
  return createHash('sha256').update(normalized, 'utf8').digest('hex');
}

/** `"  Test@Example.COM "` → `test@example.com`; undefined when it is not an address. */
export function normalizeEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined;
}

/** `"(415) 555-2671"` (US) → `+14155552671`; undefined when it is not a valid number. */
export function normalizePhone(raw: string, defaultCountry: string): string | undefined {
  const phone = parsePhoneNumberFromString(raw.trim(), defaultCountry.toUpperCase() as CountryCode);
  return phone?.isValid() ? phone.number : undefined;
}

/** `"O'Brien-Smith "` → `obriensmith`: lowercase, punctuation and spaces removed, accents kept. */
export function normalizeName(raw: string): string | undefined {
  const name = raw
    .normalize('NFC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}\s]/gu, '');
  return name === '' ? undefined : name;
}

/** `"US"` → `us`: ISO 3166-1 alpha-2, lowercase. */
export function normalizeCountry(raw: string): string | undefined {
  const country = raw.trim().toLowerCase();
  return /^[a-z]{2}$/.test(country) ? country : undefined;
}

/** US states as two-letter codes (`"Texas"` → `tx`); elsewhere lowercase without punctuation or spaces. */
export function normalizeState(raw: string, country: string | undefined): string | undefined {
  const state = normalizeName(raw);
  if (state === undefined) return undefined;
  if (country !== undefined && country !== 'us') return state;
  if (US_STATE_CODES.has(state)) return state;
  return US_STATES_BY_NAME.get(state) ?? (country === 'us' ? undefined : state);
}

/** US postal codes as 5 digits (`"12345-6789"` → `12345`); elsewhere lowercase without spaces. */
export function normalizePostalCode(raw: string, country: string | undefined): string | undefined {
  const zip = raw.trim().toLowerCase();
  if (country === undefined || country === 'us') {
    const us = /^(\d{5})(?:[-\s]?\d{4})?$/.exec(zip);
    if (us) return us[1];
    if (country === 'us') return undefined;
  }
  const other = zip.replace(/[\s-]/g, '');
  return /^[a-z0-9]{2,10}$/.test(other) ? other : undefined;
}

/**
 * Reads one row's person fields and normalizes them. A value that cannot be normalized is
 * dropped; a row left without an identifier (an email, a phone, or first and last name with a
 * postal code and a country) is refused with the reason.
 */
export function readAdPerson(row: DeliveryRecord, defaultCountry: string): AdPersonResult {
  const text = (field: string): string | undefined => {
    const value = row[field];
    if (value === null || value === undefined || typeof value === 'boolean') return undefined;
    const trimmed = String(value).trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const dropped: string[] = [];
  const person: AdPerson = {};
  const take = <K extends keyof AdPerson>(
    key: K,
    field: string,
    normalize: (raw: string) => string | undefined,
  ) => {
    const raw = text(field);
    if (raw === undefined) return;
    const value = isSha256Hex(raw) ? raw.toLowerCase() : normalize(raw);
    if (value === undefined) dropped.push(field);
    else person[key] = value;
  };
  take('country', 'country', normalizeCountry);
  const country = person.country !== undefined && !isSha256Hex(person.country) ? person.country : undefined;
  take('email', 'email', normalizeEmail);
  take('phone', 'phone', (raw) => normalizePhone(raw, country ?? defaultCountry));
  take('firstName', 'first_name', normalizeName);
  take('lastName', 'last_name', normalizeName);
  take('city', 'city', normalizeName);
  take('state', 'state', (raw) => normalizeState(raw, country));
  take('zip', 'zip', (raw) => normalizePostalCode(raw, country ?? defaultCountry.toLowerCase()));
  if (hasIdentifier(person)) return { ok: true, person };
  const why = dropped.length > 0 ? ` (could not normalize ${dropped.join(', ')})` : '';
  return {
    ok: false,
    reason: `no usable identifier: needs an email, a phone, or first_name, last_name, zip and country${why}`,
  };
}

/** The people of a batch with their row index, and the rows refused for want of an identifier. */
export async function readAdBatch(
  batch: DeliveryBatch,
  defaultCountry: string,
): Promise<{ people: { row: number; person: AdPerson }[]; rejections: DeliveryResult['rejections'] }> {
  const people: { row: number; person: AdPerson }[] = [];
  const rejections: DeliveryResult['rejections'] = [];
  let index = 0;
  for await (const chunk of batch.rows()) {
    for (const record of chunk) {
      const result = readAdPerson(record, defaultCountry);
      if (result.ok) people.push({ row: index, person: result.person });
      else rejections.push({ row: index, reason: result.reason });
      index += 1;
    }
  }
  return { people, rejections };
}

/** Whether a person can be matched at all. */
export function hasIdentifier(person: AdPerson): boolean {
  if (person.email !== undefined || person.phone !== undefined) return true;
  return (
    person.firstName !== undefined &&
    person.lastName !== undefined &&
    person.zip !== undefined &&
    person.country !== undefined
  );
}

// USPS codes for the states, DC and the territories, keyed by name without spaces or punctuation.
const US_STATES: Record<string, string> = {
  al: 'alabama',
  ak: 'alaska',
  az: 'arizona',
  ar: 'arkansas',
  ca: 'california',
  co: 'colorado',
  ct: 'connecticut',
  de: 'delaware',
  dc: 'districtofcolumbia',
  fl: 'florida',
  ga: 'georgia',
  hi: 'hawaii',
  id: 'idaho',
  il: 'illinois',
  in: 'indiana',
  ia: 'iowa',
  ks: 'kansas',
  ky: 'kentucky',
  la: 'louisiana',
  me: 'maine',
  md: 'maryland',
  ma: 'massachusetts',
  mi: 'michigan',
  mn: 'minnesota',
  ms: 'mississippi',
  mo: 'missouri',
  mt: 'montana',
  ne: 'nebraska',
  nv: 'nevada',
  nh: 'newhampshire',
  nj: 'newjersey',
  nm: 'newmexico',
  ny: 'newyork',
  nc: 'northcarolina',
  nd: 'northdakota',
  oh: 'ohio',
  ok: 'oklahoma',
  or: 'oregon',
  pa: 'pennsylvania',
  ri: 'rhodeisland',
  sc: 'southcarolina',
  sd: 'southdakota',
  tn: 'tennessee',
  tx: 'texas',
  ut: 'utah',
  vt: 'vermont',
  va: 'virginia',
  wa: 'washington',
  wv: 'westvirginia',
  wi: 'wisconsin',
  wy: 'wyoming',
  as: 'americansamoa',
  gu: 'guam',
  mp: 'northernmarianaislands',
  pr: 'puertorico',
  vi: 'usvirginislands',
};
const US_STATE_CODES = new Set(Object.keys(US_STATES));
const US_STATES_BY_NAME = new Map(Object.entries(US_STATES).map(([code, name]) => [name, code]));
