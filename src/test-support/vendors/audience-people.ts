import { hashIdentifier, normalizeEmail } from '../../delivery/ad-identifiers.js';
import type { DeliveryRecord } from '../../delivery/index.js';

// US area codes with valid 555 exchanges: each gives 10,000 distinct numbers.
const AREA_CODES = ['415', '212', '646', '312', '617', '206', '303', '512'];
const FIRST_NAMES = ['Ann', 'Bob', 'Chloé', 'Dev', 'Eve', "O'Neil", 'Mary-Jo'];
const LAST_NAMES = ['Lee', 'Smith', 'García', 'Nguyen', 'Okafor', 'Van Dyke'];

/** `n` distinct people as rows of the ad-platform fields, from person number `first` on. */
export function audiencePeople(n: number, first = 0): DeliveryRecord[] {
  return Array.from({ length: n }, (_, k) => audiencePerson(first + k));
}

/** Person number `i`: written as a CRM would, mixed case and punctuation included. */
export function audiencePerson(i: number): DeliveryRecord {
  const area = AREA_CODES[Math.floor(i / 10_000) % AREA_CODES.length];
  return {
    email: ` Person${i}@Example.com`,
    phone: `(${area}) 555-${String(i % 10_000).padStart(4, '0')}`,
    first_name: FIRST_NAMES[i % FIRST_NAMES.length] ?? 'Ann',
    last_name: LAST_NAMES[i % LAST_NAMES.length] ?? 'Lee',
    country: 'US',
    zip: `${String(10_000 + (i % 89_999)).padStart(5, '0')}-0001`,
  };
}

/** A row no ad platform or email provider can use: no valid email, phone, or full name and address. */
export const UNUSABLE_PERSON: DeliveryRecord = {
  email: 'not an email',
  phone: 'ask at the desk',
  first_name: 'Nobody',
  last_name: null,
  country: 'US',
  zip: '',
};

/** The SHA-256 of a row's normalized email: how the ad-platform stand-ins name the person. */
export function emailHashOf(row: DeliveryRecord): string {
  const email = normalizeEmail(String(row.email ?? ''));
  if (email === undefined) throw new Error(`row has no valid email: ${JSON.stringify(row)}`);
  return hashIdentifier(email);
}
