import type { ProfileConsent, Store } from '../../store/index.js';

/** Profile ids per statement: each call lists them once in the store's profile scope. */
const CHUNK = 10_000;

/** Why a profile is not sent for lack of consent: `no_consent:<purpose>` or `withdrawn:<purpose>`. */
export type SuppressionReason = `no_consent:${string}` | `withdrawn:${string}`;

/** A profile's consent for one purpose, as the profile API shows it. */
export interface ConsentView {
  granted: boolean;
  at: Date;
  /** The source (by name) of the statement that decides it. */
  source: string;
  via: 'event' | 'record';
}

/**
 * Consent as every activation checks it before anything leaves: a destination with a purpose
 * gets only profiles whose deciding statement for that purpose is a grant (see
 * `ConsentRepository` for how statements are resolved: per source only changes count, then the
 * latest wins, a refusal over a grant of the same time).
 */
export class ConsentSuppression {
  constructor(private readonly store: Store) {}

  /**
   * The profiles of `profileIds` that must not be sent to a destination of `purpose`, each with
   * why. Empty when there is no purpose. An id that is no profile (an alias merged away) has no
   * consent of its own: resolve aliases first.
   *
   * `await suppression.suppressed(['prf_1', 'prf_2'], 'email')` → `Map { 'prf_2' => 'withdrawn:email' }`
   */
  async suppressed(
    profileIds: readonly string[],
    purpose: string | undefined,
  ): Promise<Map<string, SuppressionReason>> {
    const out = new Map<string, SuppressionReason>();
    if (purpose === undefined) return out;
    const unique = [...new Set(profileIds)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const ids = unique.slice(i, i + CHUNK);
      const granted = new Map(
        (await this.store.consent.latest(ids, purpose)).map((c) => [c.profileId, c.granted]),
      );
      for (const id of ids) {
        const g = granted.get(id);
        if (g === undefined) out.set(id, `no_consent:${purpose}`);
        else if (!g) out.set(id, `withdrawn:${purpose}`);
      }
    }
    return out;
  }

  /** `suppressed` for every current member of a segment, in one statement. */
  async suppressedMembers(
    segmentId: string,
    purpose: string | undefined,
  ): Promise<Map<string, SuppressionReason>> {
    const out = new Map<string, SuppressionReason>();
    if (purpose === undefined) return out;
    for (const [id, withdrawn] of await this.store.consent.membersWithoutGrant(segmentId, purpose)) {
      out.set(id, withdrawn ? `withdrawn:${purpose}` : `no_consent:${purpose}`);
    }
    return out;
  }

  /** A profile's current consent per purpose it has stated. */
  async ofProfile(profileId: string): Promise<Record<string, ConsentView>> {
    const [latest, sources] = await Promise.all([
      this.store.consent.latest([profileId]),
      this.store.sources.list(),
    ]);
    const names = new Map(sources.map((s) => [s.id, s.name]));
    const view = (c: ProfileConsent): ConsentView => ({
      granted: c.granted,
      at: c.statedAt,
      source: names.get(c.sourceId) ?? c.sourceId,
      via: c.via,
    });
    return Object.fromEntries(
      latest.sort((a, b) => a.purpose.localeCompare(b.purpose)).map((c) => [c.purpose, view(c)]),
    );
  }
}
