import type { IdentityConfig } from '../core/index.js';
import type { AttributeSource, AuditEntry, EventRecord, IdentifierRow, Store } from '../store/index.js';
import { attributeObservations } from './profile-attributes.js';
import { type UnifiedAttribute, unifyAttributes } from './survivorship.js';

/** Everything Sluice knows about one customer. */
export interface CustomerProfile {
  id: string;
  /** Set when the id asked for was merged into this profile. */
  resolvedFrom?: string;
  identifiers: { namespace: string; value: string; shared: boolean; firstSeenAt: Date; source: string }[];
  attributes: Record<string, UnifiedAttribute>;
  computedTraits: Record<string, unknown>;
  records: { source: string; recordId: string; receivedAt: Date }[];
  recentEvents: EventRecord[];
}

/** Why a profile's identifiers are together: what linked each, every merge and every refused merge. */
export interface IdentityExplanation {
  id: string;
  aliases: string[];
  identifiers: (IdentifierRow & { source: string })[];
  records: { source: string; recordId: string; seq: number; identifiers: Record<string, string[]> }[];
  audit: (AuditEntry & { source: string })[];
}

/** Resolves a profile id or an alias; `undefined` when neither is known. */
async function resolve(store: Store, id: string): Promise<{ id: string; resolvedFrom?: string } | undefined> {
  const profileId = await store.identity.resolveProfileId(id);
  if (!profileId) return undefined;
  return profileId === id ? { id } : { id: profileId, resolvedFrom: id };
}

/** The Customer 360 of a profile: attributes with their sources, identifiers, traits, recent events. */
export async function customerProfile(
  store: Store,
  config: Pick<IdentityConfig, 'attributes' | 'defaultRule'>,
  idOrAlias: string,
  recentEvents = 20,
): Promise<CustomerProfile | undefined> {
  const resolved = await resolve(store, idOrAlias);
  if (!resolved) return undefined;
  const sourceName = await sourceNames(store);
  const [identifiers, records, identifies, events, traits] = await Promise.all([
    store.identity.identifiersOf(resolved.id),
    store.identity.recordsOf(resolved.id),
    store.events.ofProfile(resolved.id, 10_000, 'identify'),
    store.events.ofProfile(resolved.id, recentEvents),
    store.identity.traitsOf(resolved.id),
  ]);
  // Identify calls come newest first: in order of arrival, as survivorship expects.
  const sources: AttributeSource[] = [
    ...records.map((r) => ({
      profileId: resolved.id,
      sourceId: r.sourceId,
      ref: `record:${r.recordId}`,
      values: r.attributes,
      receivedAt: r.receivedAt,
    })),
    ...identifies.reverse().map((e) => ({
      profileId: resolved.id,
      sourceId: e.sourceId,
      ref: `event:${e.messageId}`,
      values: e.traits,
      receivedAt: e.receivedAt,
    })),
  ];
  const observations = attributeObservations(sources, sourceName);
  return {
    ...resolved,
    identifiers: identifiers.map((i) => ({
      namespace: i.namespace,
      value: i.value,
      shared: i.shared,
      firstSeenAt: i.firstSeenAt,
      source: sourceName(i.firstSourceId),
    })),
    attributes: unifyAttributes(observations, config),
    computedTraits: traits,
    records: records.map((r) => ({
      source: sourceName(r.sourceId),
      recordId: r.recordId,
      receivedAt: r.receivedAt,
    })),
    recentEvents: events,
  };
}

/** The merge audit of a profile (`GET /api/profiles/:id/identity`). */
export async function explainIdentity(
  store: Store,
  idOrAlias: string,
): Promise<IdentityExplanation | undefined> {
  const resolved = await resolve(store, idOrAlias);
  if (!resolved) return undefined;
  const sourceName = await sourceNames(store);
  const aliases = await store.identity.aliasesOf(resolved.id);
  const [identifiers, records, audit] = await Promise.all([
    store.identity.identifiersOf(resolved.id),
    store.identity.recordsOf(resolved.id),
    store.identity.auditOf([resolved.id, ...aliases]),
  ]);
  return {
    id: resolved.id,
    aliases,
    identifiers: identifiers.map((i) => ({ ...i, source: sourceName(i.firstSourceId) })),
    records: records.map((r) => ({
      source: sourceName(r.sourceId),
      recordId: r.recordId,
      seq: r.seq,
      identifiers: r.identifiers,
    })),
    audit: audit.map((a) => ({ ...a, source: sourceName(a.sourceId) })),
  };
}

async function sourceNames(store: Store): Promise<(id: string) => string> {
  const names = new Map((await store.sources.list()).map((s) => [s.id, s.name]));
  return (id) => names.get(id) ?? id;
}
