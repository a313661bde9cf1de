import { normalizeEmail } from '../../ad-identifiers.js';
import type { DeliveryBatch, DeliveryRecord, DeliveryResult } from '../../connector.js';

/** One member of Mailchimp's batch subscribe-or-unsubscribe call, with its row in the batch. */
export interface MailchimpMember {
  row: number;
  email_address: string;
  status: 'subscribed' | 'unsubscribed';
  merge_fields?: Record<string, string>;
}

/**
 * The batch's rows as Mailchimp members: adds subscribe (with first and last name as the default
 * FNAME and LNAME merge fields), removes unsubscribe. Rows without a valid email are refused.
 */
export async function membersOf(
  batch: DeliveryBatch,
): Promise<{ members: MailchimpMember[]; rejections: DeliveryResult['rejections'] }> {
  const members: MailchimpMember[] = [];
  const rejections: DeliveryResult['rejections'] = [];
  let row = 0;
  for await (const chunk of batch.rows()) {
    for (const record of chunk) {
      const email = normalizeEmail(text(record, 'email') ?? '');
      if (email === undefined) {
        rejections.push({ row, reason: 'no usable identifier: email is missing or not an address' });
      } else if (batch.operation === 'remove') {
        members.push({ row, email_address: email, status: 'unsubscribed' });
      } else {
        const mergeFields = mergeFieldsOf(record);
        members.push({
          row,
          email_address: email,
          status: 'subscribed',
          ...(mergeFields ? { merge_fields: mergeFields } : {}),
        });
      }
      row += 1;
    }
  }
  return { members, rejections };
}

function mergeFieldsOf(record: DeliveryRecord): Record<string, string> | undefined {
  const fields: Record<string, string> = {};
  const first = text(record, 'first_name');
  const last = text(record, 'last_name');
  if (first !== undefined) fields.FNAME = first;
  if (last !== undefined) fields.LNAME = last;
  return Object.keys(fields).length > 0 ? fields : undefined;
}

function text(record: DeliveryRecord, field: string): string | undefined {
  const value = record[field];
  if (value === null || value === undefined || typeof value === 'boolean') return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}
