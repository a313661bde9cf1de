import type { Campaign, FieldMapping } from '../core/index.js';
import type { Delivery, DestinationView } from '../delivery/index.js';
import type { SegmentService } from '../segments/index.js';
import type { CampaignMemberRow, ContactRow, Store } from '../store/index.js';
import { assignmentPoint, groupOf } from './campaign-groups.js';
import type { ContactPolicyService } from './contact-policy.js';
import { profileRows } from './field-sources.js';
import type { ConsentSuppression } from './governance/index.js';

/** What one run did for one destination of one treatment group. */
export interface DestinationCounts {
  destinationId: string;
  destinationName: string;
  /** Rows handed to the delivery outbox. */
  queued: number;
  /** Profiles not sent, by reason (e.g. `no_consent:email`). */
  suppressed: Record<string, number>;
  /** Profiles the contact policy held back, by reason. */
  held: Record<string, number>;
}

export interface GroupCounts {
  name: string;
  control: boolean;
  profiles: number;
  destinations: DestinationCounts[];
}

/** What a run computed, stored with it. */
export interface RunCounts {
  /** Members of an include segment. */
  qualified: number;
  /** Of those, members of an exclude segment. */
  excluded: number;
  /** Qualified and not excluded. */
  audience: number;
  /** In the audience, and handled (sent or held out as control) by an earlier run that it has not left since. */
  alreadyHandled: number;
  /** In the audience now and not at the last run: what a recurrence is for. */
  newlyQualified: number;
  /** In the audience at the last run too, but suppressed, held back or unmatched then: tried again. */
  retried: number;
  /** Newly qualified or retried, but in no sub-audience. */
  unmatched: number;
  subAudiences: { name: string; profiles: number; groups: GroupCounts[] }[];
}

export interface CampaignRunnerDeps {
  store: Store;
  segments: SegmentService;
  delivery: Delivery;
  consent: ConsentSuppression;
  contactPolicy: ContactPolicyService;
  now: () => Date;
  /** The destination's mapping when a treatment gives none. */
  defaultFields(destinationId: string): Promise<FieldMapping>;
}

const PAGE = 5_000;

/**
 * One campaign run, in two steps. The plan works out the audience, assigns each newly qualified
 * profile its sub-audience and group, screens consent and the contact policy per destination, and
 * commits all of it (each profile's outcome, the audience the next recurrence compares with, the
 * contacts made) in one transaction. Sending then hands the plan's groups to the outbox, whose
 * idempotency keys make a resumed send (after a crash, or a failure a later run picks up) write
 * nothing twice. A plan is made once: a run resumed after it was committed sends what it says.
 */
export class CampaignRunner {
  /** Plans in this process, one at a time: a frequency cap is checked and its contacts logged together. */
  private planning: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: CampaignRunnerDeps) {}

  /** Makes and commits a run's plan (under the planning lock). */
  plan(campaign: Campaign, runId: string, dueAt: Date): Promise<RunCounts> {
    const next = this.planning.then(() => this.makePlan(campaign, runId, dueAt));
    this.planning = next.catch(() => {});
    return next;
  }

  /** Queues every group of a committed plan (a group queued before is not queued again). */
  async send(campaign: Campaign, runId: string, dueAt: Date): Promise<void> {
    const { store, delivery } = this.deps;
    // Every planned group, with the profiles it sends: one with none still gets its (empty) file.
    const counts = (await store.campaigns.run(runId))?.counts as RunCounts | undefined;
    const sends = new Map(
      (await store.campaigns.plannedSends(runId)).map((g) => [
        JSON.stringify([g.subAudience, g.treatment, g.destinationId]),
        g,
      ]),
    );
    const groups = (counts?.subAudiences ?? []).flatMap((sub) =>
      sub.groups.flatMap((g) =>
        g.destinations.map((d) => {
          const key = JSON.stringify([sub.name, g.name, d.destinationId]);
          return (
            sends.get(key) ?? {
              subAudience: sub.name,
              treatment: g.name,
              destinationId: d.destinationId,
              profileIds: [],
            }
          );
        }),
      ),
    );
    for (const group of groups) {
      const treatment = campaign.subAudiences
        .find((s) => s.name === group.subAudience)
        ?.treatments.find((t) => t.name === group.treatment);
      const target = treatment?.destinations.find((d) => d.destinationId === group.destinationId);
      const fields = target?.fields ?? (await this.deps.defaultFields(group.destinationId));
      const profiles = group.profileIds;
      async function* pages() {
        for (let i = 0; i < profiles.length; i += PAGE)
          yield await profileRows(store, fields, profiles.slice(i, i + PAGE));
      }
      await delivery.outbox.enqueue({
        destinationId: group.destinationId,
        activation: { id: campaign.id, name: campaign.name },
        runId,
        group: `${group.subAudience}_${group.treatment}`,
        // Names may hold any character: as JSON the pair cannot be confused with another.
        part: JSON.stringify([group.subAudience, group.treatment]),
        runAt: dueAt,
        operation: 'add',
        fields: Object.keys(fields),
        rows: pages(),
      });
    }
  }

  private async makePlan(campaign: Campaign, runId: string, dueAt: Date): Promise<RunCounts> {
    const { store } = this.deps;
    const qualified = await this.membersOf(campaign.include);
    const excluded = await this.membersOf(campaign.exclude);
    const before = await store.campaigns.lastAudience(campaign.id);
    const audience = [...qualified].filter((p) => !excluded.has(p));
    const alreadyHandled = audience.filter((p) => before.get(p) === true);
    const newlyQualified = audience.filter((p) => !before.has(p));
    // Suppressed, held back or unmatched at the last run and still in the audience: tried again.
    const retried = audience.filter((p) => before.get(p) === false);
    const candidates = [...newlyQualified, ...retried].sort();

    const subOf = await this.subAudiencesOf(campaign, candidates, dueAt);
    const counts: RunCounts = {
      qualified: qualified.size,
      excluded: qualified.size - audience.length,
      audience: audience.length,
      alreadyHandled: alreadyHandled.length,
      newlyQualified: newlyQualified.length,
      retried: retried.length,
      unmatched: 0,
      subAudiences: campaign.subAudiences.map((sub) => ({
        name: sub.name,
        profiles: 0,
        groups: [
          ...sub.treatments.map((t) => ({ name: t.name, control: false, profiles: 0, destinations: [] })),
          ...(sub.control ? [{ name: 'control', control: true, profiles: 0, destinations: [] }] : []),
        ],
      })),
    };
    const members: CampaignMemberRow[] = [];
    const handled = new Set(alreadyHandled);
    const buckets = campaign.subAudiences.map((sub) => sub.treatments.map((): string[] => []));
    for (const profileId of candidates) {
      const s = subOf(profileId);
      const row = { profileId, destinationId: null, reason: null };
      if (s === undefined) {
        counts.unmatched += 1;
        members.push({
          ...row,
          subAudience: null,
          treatment: null,
          outcome: 'unmatched',
          reason: 'no_sub_audience',
        });
        continue;
      }
      const sub = campaign.subAudiences[s]!;
      counts.subAudiences[s]!.profiles += 1;
      const group = groupOf(sub, assignmentPoint(campaign.id, profileId));
      if (group === 'control') {
        counts.subAudiences[s]!.groups[sub.treatments.length]!.profiles += 1;
        members.push({ ...row, subAudience: sub.name, treatment: 'control', outcome: 'control' });
        handled.add(profileId);
      } else {
        counts.subAudiences[s]!.groups[group]!.profiles += 1;
        buckets[s]![group]!.push(profileId);
      }
    }

    // Quiet hours and caps are about when people hear from us: the time of sending, not the due time.
    const at = this.deps.now();
    const contacts: ContactRow[] = [];
    for (const [s, sub] of campaign.subAudiences.entries()) {
      for (const [t, treatment] of sub.treatments.entries()) {
        for (const target of treatment.destinations) {
          const destination = await this.deps.delivery.destinations.get(target.destinationId);
          const screened = await this.screen(destination, buckets[s]![t]!, at, contacts);
          const result: DestinationCounts = {
            destinationId: destination.id,
            destinationName: destination.name,
            queued: screened.sendable.length,
            suppressed: {},
            held: {},
          };
          const member = (profileId: string, outcome: CampaignMemberRow['outcome'], reason: string | null) =>
            members.push({
              profileId,
              subAudience: sub.name,
              treatment: treatment.name,
              destinationId: destination.id,
              outcome,
              reason,
            });
          for (const [profileId, reason] of screened.suppressed) {
            result.suppressed[reason] = (result.suppressed[reason] ?? 0) + 1;
            member(profileId, 'suppressed', reason);
          }
          for (const [profileId, reason] of screened.held) {
            result.held[reason] = (result.held[reason] ?? 0) + 1;
            member(profileId, 'held', reason);
          }
          for (const profileId of screened.sendable) {
            member(profileId, 'sent', null);
            handled.add(profileId);
            if (destination.purpose !== undefined) {
              contacts.push({
                profileId,
                channel: destination.purpose,
                activationId: campaign.id,
                runId,
                at,
              });
            }
          }
          counts.subAudiences[s]!.groups[t]!.destinations.push(result);
        }
      }
    }
    await store.campaigns.commitPlan(runId, campaign.id, {
      members,
      audience,
      handled,
      contacts,
      counts: counts as unknown as Record<string, unknown>,
    });
    return counts;
  }

  /**
   * Which profiles may go to a destination at `at`: those without consent for its purpose are
   * suppressed, those the contact policy holds back are held (counting the contacts this plan
   * already makes on the channel); the rest are sendable.
   */
  private async screen(
    destination: DestinationView,
    profiles: readonly string[],
    at: Date,
    planned: readonly ContactRow[],
  ): Promise<{ sendable: string[]; suppressed: Map<string, string>; held: Map<string, string> }> {
    const suppressed: Map<string, string> = await this.deps.consent.suppressed(profiles, destination.purpose);
    const open = profiles.filter((p) => !suppressed.has(p));
    // A destination's channel is its purpose: one without a purpose is no channel a policy caps.
    const channel = destination.purpose;
    const held =
      channel === undefined
        ? new Map<string, string>()
        : await this.deps.contactPolicy.screen({
            profileIds: open,
            channel,
            at,
            alsoContacted: planned.filter((c) => c.channel === channel).map((c) => c.profileId),
          });
    return { sendable: open.filter((p) => !held.has(p)), suppressed, held };
  }

  private async membersOf(segmentIds: readonly string[]): Promise<Set<string>> {
    const members = new Set<string>();
    for (const id of segmentIds) {
      for (let after = ''; ; ) {
        const page = await this.deps.store.memberships.members(id, PAGE * 4, after);
        if (page.length === 0) break;
        for (const m of page) members.add(m.profileId);
        after = page[page.length - 1]!.profileId;
      }
    }
    return members;
  }

  /** For each candidate, the index of the first sub-audience whose condition it meets. */
  private async subAudiencesOf(
    campaign: Campaign,
    profiles: readonly string[],
    at: Date,
  ): Promise<(profileId: string) => number | undefined> {
    const conditions = campaign.subAudiences.flatMap((sub, i) =>
      sub.condition ? [{ id: String(i), condition: sub.condition }] : [],
    );
    const meets = new Map<string, number>();
    if (conditions.length > 0 && profiles.length > 0) {
      const wanted = new Set(profiles);
      const { sql, params } = this.deps.segments.conditionsSql(conditions, at);
      for (const row of await this.deps.store.db.query<{ segment_id: string; profile_id: string }>(
        sql,
        params,
      )) {
        if (!wanted.has(row.profile_id)) continue;
        const i = Number(row.segment_id);
        const known = meets.get(row.profile_id);
        if (known === undefined || i < known) meets.set(row.profile_id, i);
      }
    }
    const catchAll = campaign.subAudiences.findIndex((sub) => !sub.condition);
    return (profileId) => meets.get(profileId) ?? (catchAll === -1 ? undefined : catchAll);
  }
}
