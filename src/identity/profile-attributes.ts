import type { IdentityConfig } from '../core/index.js';
import type { AttributeSource, Store } from '../store/index.js';
import { type AttributeObservation, unifyAttributes } from './survivorship.js';

/**
 * The attribute values a profile's records and identify calls carried. Identify traits that are
 * identifiers (email, phone) or objects are not attributes.
 */
export function attributeObservations(
  sources: readonly AttributeSource[],
  sourceName: (id: string) => string,
): AttributeObservation[] {
  const observations: AttributeObservation[] = [];
  for (const s of sources) {
    const fromEvent = s.ref.startsWith('event:');
    for (const [name, value] of Object.entries(s.values)) {
      if (
        fromEvent &&
        (name === 'email' || name === 'phone' || (typeof value === 'object' && value !== null))
      )
        continue;
      observations.push({ name, value, source: sourceName(s.sourceId), at: s.receivedAt, ref: s.ref });
    }
  }
  return observations;
}

/** Keeps each profile's unified attributes stored, for segments: for the profiles a pass touched, or all. */
export class ProfileAttributes {
  constructor(
    private readonly store: Store,
    private readonly config: () => Pick<IdentityConfig, 'attributes' | 'defaultRule'>,
  ) {}

  /** Recomputes the attributes of `profileIds` (every profile when undefined). */
  async refresh(profileIds?: readonly string[]): Promise<number> {
    if (profileIds !== undefined && profileIds.length === 0) return 0;
    const names = new Map((await this.store.sources.list()).map((s) => [s.id, s.name]));
    const sourceName = (id: string) => names.get(id) ?? id;
    const byProfile = new Map<string, AttributeSource[]>();
    for (const s of await this.store.attributes.sourcesOf(profileIds)) {
      const list = byProfile.get(s.profileId);
      if (list) list.push(s);
      else byProfile.set(s.profileId, [s]);
    }
    const rows: { profileId: string; name: string; value: unknown }[] = [];
    const config = this.config();
    for (const [profileId, sources] of byProfile) {
      const unified = unifyAttributes(attributeObservations(sources, sourceName), config);
      for (const [name, a] of Object.entries(unified)) rows.push({ profileId, name, value: a.value });
    }
    await this.store.attributes.replace(profileIds, rows);
    return byProfile.size;
  }
}
