import type { ConsentCursor, Store, StoredAudienceSync } from '../store/index.js';
import type { ConsentSuppression } from './governance/index.js';

/** A member whose consent decision for a sync changed: `reason` set when now held back. */
export interface ConsentChange {
  profileId: string;
  reason: string | undefined;
  /** Whether the sync held the member back before (if not, the destination has them). */
  wasHeld: boolean;
}

/**
 * How an audience sync learns of consent changes: statements identity stitched between two of
 * its cursors, merges in between, or (after the destination's purpose changed) every member,
 * compared with the members the sync holds back.
 */
export class SyncConsent {
  constructor(
    private readonly store: Store,
    private readonly suppression: ConsentSuppression,
  ) {}

  /** How far identity has stitched: consent statements up to here belong to profiles. */
  async identityCursor(): Promise<ConsentCursor> {
    const state = await this.store.identity.state();
    return {
      events: Number(state.cursor_events ?? 0),
      records: Number(state.cursor_records ?? 0),
      audit: Number(state.audit_seq ?? 0),
    };
  }

  /**
   * Members whose consent decision differs from what the sync did for them: `reason` set when
   * they must now be held back, undefined when they may now be sent. From statements and merges
   * between two identity cursors, or (no `from`) every member: after the purpose changed.
   */
  async changes(
    sync: StoredAudienceSync,
    purpose: string | undefined,
    from: ConsentCursor | undefined,
    to: ConsentCursor,
    skip: ReadonlySet<string>,
  ): Promise<ConsentChange[]> {
    const out: ConsentChange[] = [];
    if (from === undefined) {
      const now = await this.suppression.suppressedMembers(sync.segmentId, purpose);
      const held = await this.store.audienceSyncs.heldBack(sync.id);
      const stillMembers = await this.store.audienceSyncs.membersAmong(
        sync.segmentId,
        [...held.keys()].filter((id) => !now.has(id) && !skip.has(id)),
      );
      for (const [id, reason] of now) {
        if (!skip.has(id) && held.get(id) !== reason)
          out.push({ profileId: id, reason, wasHeld: held.has(id) });
      }
      for (const id of stillMembers) out.push({ profileId: id, reason: undefined, wasHeld: true });
      return out;
    }
    if (purpose === undefined) return out;
    const candidates = (await this.store.consent.changedMembers(sync.segmentId, purpose, from, to)).filter(
      (id) => !skip.has(id),
    );
    const now = await this.suppression.suppressed(candidates, purpose);
    const held = await this.store.audienceSyncs.heldBack(sync.id, candidates);
    for (const id of candidates) {
      const reason = now.get(id);
      if (reason !== held.get(id)) out.push({ profileId: id, reason, wasHeld: held.has(id) });
    }
    return out;
  }
}

export function sameCursor(a: ConsentCursor, b: ConsentCursor): boolean {
  return a.events === b.events && a.records === b.records && a.audit === b.audit;
}

/** The consent part of a step's run id: the identity ranges whose statements and merges it read. */
export function cursorRange(from: ConsentCursor | undefined, to: ConsentCursor): string {
  const f = from ?? { events: 0, records: 0, audit: 0 };
  return `e${f.events}-${to.events}.r${f.records}-${to.records}.a${f.audit}-${to.audit}`;
}
