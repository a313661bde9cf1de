import { createHash } from 'node:crypto';
import { type AdPerson, hashIdentifier, isSha256Hex } from '../../ad-identifiers.js';
import type { DeliveryBatch, DeliveryResult } from '../../connector.js';

/** Identifiers per AddOfflineUserDataJobOperations request: Google recommends 10,000 (100,000 at most). */
export const IDENTIFIERS_PER_REQUEST = 10_000;

export type UserIdentifier =
  | { hashedEmail: string }
  | { hashedPhoneNumber: string }
  | {
      addressInfo: {
        hashedFirstName: string;
        hashedLastName: string;
        countryCode: string;
        postalCode: string;
      };
    };

/** One row's operation and where it came from in the batch. */
export interface RowOperation {
  row: number;
  operation:
    | { create: { userIdentifiers: UserIdentifier[] } }
    | { remove: { userIdentifiers: UserIdentifier[] } };
  identifiers: number;
}

/** Google's identifiers for a person: hashed email and phone (E.164 with `+`), and the address when complete. */
export function userIdentifiersOf(person: AdPerson): UserIdentifier[] {
  const ids: UserIdentifier[] = [];
  if (person.email !== undefined) ids.push({ hashedEmail: hashIdentifier(person.email) });
  if (person.phone !== undefined) ids.push({ hashedPhoneNumber: hashIdentifier(person.phone) });
  const { firstName, lastName, country, zip } = person;
  // Country and postal code go unhashed: a value that came hashed cannot make an address.
  if (firstName && lastName && country && zip && !isSha256Hex(country) && !isSha256Hex(zip)) {
    ids.push({
      addressInfo: {
        hashedFirstName: hashIdentifier(firstName),
        hashedLastName: hashIdentifier(lastName),
        countryCode: country.toUpperCase(),
        postalCode: zip,
      },
    });
  }
  return ids;
}

/** The people's operations in request-sized chunks of at most `limit` identifiers, and the rows Google cannot take. */
export function operationChunks(
  people: readonly { row: number; person: AdPerson }[],
  kind: DeliveryBatch['operation'],
  limit = IDENTIFIERS_PER_REQUEST,
): { chunks: RowOperation[][]; unusable: number[] } {
  const chunks: RowOperation[][] = [];
  const unusable: number[] = [];
  let current: RowOperation[] = [];
  let size = 0;
  for (const { row, person } of people) {
    const userIdentifiers = userIdentifiersOf(person);
    if (userIdentifiers.length === 0) {
      unusable.push(row);
      continue;
    }
    if (size + userIdentifiers.length > limit && current.length > 0) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    const operation = kind === 'add' ? { create: { userIdentifiers } } : { remove: { userIdentifiers } };
    current.push({ row, operation, identifiers: userIdentifiers.length });
    size += userIdentifiers.length;
  }
  if (current.length > 0) chunks.push(current);
  return { chunks, unusable };
}

interface GoogleAdsFailure {
  errors?: {
    errorCode?: Record<string, string>;
    message?: string;
    location?: { fieldPathElements?: { fieldName?: string; index?: number }[] };
  }[];
}

/** Rejections from an addOperations answer's `partialFailureError`, one per failed operation, by batch row. */
export function partialFailureRejections(
  answer: unknown,
  chunk: readonly RowOperation[],
): DeliveryResult['rejections'] {
  const status = (answer as { partialFailureError?: { message?: string; details?: GoogleAdsFailure[] } })
    .partialFailureError;
  if (!status) return [];
  const byRow = new Map<number | undefined, string[]>();
  for (const failure of status.details ?? []) {
    for (const error of failure.errors ?? []) {
      const element = error.location?.fieldPathElements?.find((e) => e.fieldName === 'operations');
      const row = element?.index === undefined ? undefined : chunk[element.index]?.row;
      const code = Object.values(error.errorCode ?? {})[0];
      const reason = [code, error.message].filter(Boolean).join(': ') || 'refused by Google Ads';
      byRow.set(row, [...(byRow.get(row) ?? []), reason]);
    }
  }
  if (byRow.size === 0) return [{ reason: status.message ?? 'partial failure without details' }];
  return [...byRow].map(([row, reasons]) => ({
    ...(row === undefined ? {} : { row }),
    reason: reasons.join('; '),
  }));
}

/**
 * The job's `externalId`, derived from the batch key and operation: a retry finds the job its
 * earlier attempt created instead of uploading the batch again.
 */
export function jobExternalId(batch: DeliveryBatch): string {
  const digest = createHash('sha256').update(`${batch.key}:${batch.operation}`).digest('hex');
  // 60 bits: a positive int64.
  return BigInt(`0x${digest.slice(0, 15)}`).toString();
}
