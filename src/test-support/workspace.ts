import type { Store } from '../store/index.js';

/** A person of the small workspace `seedWorkspace` writes. */
export interface SeedPerson {
  profileId: string;
  email: string;
  attributes: Record<string, unknown>;
}

export const SEED_PEOPLE: readonly SeedPerson[] = [
  { profileId: 'prf_ann', email: 'ann@example.com', attributes: { first_name: 'Ann', tier: 'gold' } },
  { profileId: 'prf_bob', email: 'bob@example.com', attributes: { first_name: 'Bob', tier: 'silver' } },
  { profileId: 'prf_cid', email: 'cid@example.com', attributes: { first_name: 'Cid', tier: null } },
];

const FIRST_SEEN = new Date('2026-03-01T09:00:00Z');

/**
 * A small workspace written straight into the store's tables, as identity resolution and
 * segment evaluation would leave them: three profiles with an email and a user id each, their
 * attributes and one trait, a segment with two members, and one `Order Completed` per person.
 */
export async function seedWorkspace(store: Store): Promise<void> {
  const identifiers = SEED_PEOPLE.flatMap((p, i) => [
    [2 * i + 1, 'email', p.email, p.profileId, false, FIRST_SEEN, 'event', i + 1, 'src_web'],
    [2 * i + 2, 'user_id', p.profileId.slice(4), p.profileId, false, FIRST_SEEN, 'event', i + 1, 'src_web'],
  ]);
  await store.db.bulkInsert(
    'identifiers',
    [
      'id',
      'namespace',
      'value',
      'profile_id',
      'shared',
      'first_seen_at',
      'first_ref_kind',
      'first_ref_seq',
      'first_source_id',
    ],
    identifiers,
  );
  await store.attributes.replace(
    SEED_PEOPLE.map((p) => p.profileId),
    SEED_PEOPLE.flatMap((p) =>
      Object.entries(p.attributes).map(([name, value]) => ({ profileId: p.profileId, name, value })),
    ),
  );
  await store.db.bulkInsert(
    'profile_traits',
    ['profile_id', 'name', 'value', 'updated_at'],
    [['prf_ann', 'order_count', '1', FIRST_SEEN]],
  );
  await store.db.query(
    `INSERT INTO segments (id, name, description, definition, mode, created_at, updated_at)
     VALUES ('seg_gold', 'Gold', NULL, '{}', 'batch', $1, $1)`,
    [FIRST_SEEN],
  );
  await store.db.bulkInsert(
    'segment_members',
    ['segment_id', 'profile_id', 'since'],
    [
      ['seg_gold', 'prf_ann', FIRST_SEEN],
      ['seg_gold', 'prf_bob', FIRST_SEEN],
    ],
  );
  for (const [i, p] of SEED_PEOPLE.entries()) {
    await addOrder(store, `msg_${i + 1}`, p.profileId.slice(4), 10 * (i + 1));
  }
}

/** Appends an `Order Completed` event of a user id (a seeded profile's is its id without `prf_`). */
export async function addOrder(
  store: Store,
  messageId: string,
  userId: string,
  revenue: number,
): Promise<void> {
  const at = new Date('2026-03-02T10:00:00Z');
  await store.db.appendSequenced(
    'events',
    [
      'seq',
      'message_id',
      'source_id',
      'type',
      'user_id',
      'anonymous_id',
      'event',
      'group_id',
      'previous_id',
      'timestamp',
      'original_timestamp',
      'sent_at',
      'received_at',
      'properties',
      'traits',
      'context',
      'import_id',
    ],
    1,
    (seq) => [
      [
        seq,
        messageId,
        'src_web',
        'track',
        userId,
        null,
        'Order Completed',
        null,
        null,
        at,
        at,
        at,
        at,
        JSON.stringify({ revenue }),
        '{}',
        '{}',
        null,
      ],
    ],
  );
}
