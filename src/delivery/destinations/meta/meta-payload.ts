import { createHash } from 'node:crypto';
import { type AdPerson, hashIdentifier, isSha256Hex } from '../../ad-identifiers.js';
import type { DeliveryBatch } from '../../connector.js';

/** Meta's multi-key schema names, in the order Sluice sends them, with how each value is hashed. */
const KEYS: readonly { key: string; value: (person: AdPerson) => string | undefined }[] = [
  { key: 'EMAIL', value: (p) => p.email },
  // Meta wants the phone's digits only; a value already hashed is sent as it came.
  {
    key: 'PHONE',
    value: (p) => (p.phone === undefined || isSha256Hex(p.phone) ? p.phone : p.phone.replace('+', '')),
  },
  { key: 'FN', value: (p) => p.firstName },
  { key: 'LN', value: (p) => p.lastName },
  { key: 'CT', value: (p) => p.city },
  { key: 'ST', value: (p) => p.state },
  { key: 'ZIP', value: (p) => p.zip },
  { key: 'COUNTRY', value: (p) => p.country },
];

/** Meta's `payload`: the keys any of these people has, and one row of hashes per person (`''` where missing). */
export function metaPayload(people: readonly AdPerson[]): { schema: string[]; data: string[][] } {
  const used = KEYS.filter((k) => people.some((p) => k.value(p) !== undefined));
  return {
    schema: used.map((k) => k.key),
    data: people.map((p) =>
      used.map((k) => {
        const value = k.value(p);
        return value === undefined ? '' : hashIdentifier(value);
      }),
    ),
  };
}

/**
 * Meta's upload `session` for a batch. All batches of one run, destination and operation share a
 * session id (derived from the batch key without its last part), so a retry reuses it and Meta
 * drops a sequence number it already has.
 */
export function metaSession(batch: DeliveryBatch, rows: number) {
  const cut = batch.key.lastIndexOf(':');
  const subject = `${cut > 0 ? batch.key.slice(0, cut) : batch.key}:${batch.operation}`;
  // 52 bits of the digest: a positive integer JSON carries exactly (Meta's session_id is an int64).
  const sessionId = Number.parseInt(createHash('sha256').update(subject).digest('hex').slice(0, 13), 16);
  return {
    session_id: sessionId,
    batch_seq: batch.index + 1,
    last_batch_flag: batch.index === batch.count - 1,
    estimated_num_total: Math.max(rows * batch.count, rows),
  };
}
