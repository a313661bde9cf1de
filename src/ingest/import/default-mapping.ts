import type { EventMapping, ImportMapping, ProfileMapping, SourceKind } from '../../core/index.js';

/** Header names (normalized) that are taken as identifiers when no mapping is given. */
const IDENTIFIER_COLUMNS: Record<string, string> = {
  email: 'email',
  email_address: 'email',
  e_mail: 'email',
  phone: 'phone',
  phone_number: 'phone',
  mobile: 'phone',
  mobile_phone: 'phone',
  customer_id: 'customer_id',
  customerid: 'customer_id',
  user_id: 'user_id',
  userid: 'user_id',
  loyalty_id: 'loyalty_id',
  anonymous_id: 'anonymous_id',
  anonymousid: 'anonymous_id',
  device_id: 'device_id',
};

const EVENT_FIELDS: Record<string, 'type' | 'event' | 'userId' | 'anonymousId' | 'messageId' | 'timestamp'> =
  {
    type: 'type',
    event: 'event',
    event_name: 'event',
    userid: 'userId',
    user_id: 'userId',
    anonymousid: 'anonymousId',
    anonymous_id: 'anonymousId',
    messageid: 'messageId',
    message_id: 'messageId',
    timestamp: 'timestamp',
    time: 'timestamp',
  };

/** `"E-mail Address"` → `e_mail_address`. */
export function normalizeColumnName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The mapping used when none is given: identifier-like columns become identifiers and the rest
 * string attributes (profiles); Segment field names become event fields and the rest string
 * properties (events).
 */
export function inferMapping(kind: SourceKind, columns: readonly string[]): ImportMapping {
  if (kind === 'profiles') {
    const mapping: ProfileMapping = { kind: 'profiles', identifiers: {}, attributes: {} };
    for (const column of columns) {
      const norm = normalizeColumnName(column);
      const namespace = IDENTIFIER_COLUMNS[norm];
      if (!namespace) {
        if (norm) mapping.attributes[norm] = column;
        continue;
      }
      const existing = mapping.identifiers[namespace];
      mapping.identifiers[namespace] = existing === undefined ? column : [...[existing].flat(), column];
    }
    return mapping;
  }
  const mapping: EventMapping = { kind: 'events', type: 'track', properties: {}, traits: {} };
  for (const column of columns) {
    const norm = normalizeColumnName(column);
    const field = EVENT_FIELDS[norm];
    if (field === 'event') mapping.event = { column };
    else if (field === 'timestamp') mapping.timestamp = { column, type: 'timestamp' };
    else if (field === 'type')
      continue; // a type column is read per row (see row-mapper)
    else if (field) mapping[field] = column;
    else if (norm) mapping.properties[norm] = column;
  }
  return mapping;
}
