import {
  type Campaign,
  type CampaignDefinition,
  CampaignDefinitionSchema,
  type CampaignStatus,
  type FieldMapping,
  FieldMappingSchema,
  type Issue,
  NotFoundError,
  newId,
  parseOrThrow,
  UserError,
} from '../core/index.js';
import type { Delivery, DestinationView } from '../delivery/index.js';
import { checkSchedule, nextRunAfter, type Scheduler } from '../scheduler/index.js';
import type { SegmentService } from '../segments/index.js';
import type { CampaignMemberRow, Store, StoredCampaignRun } from '../store/index.js';
import { assignmentPoint, groupOf } from './campaign-groups.js';
import type { ContactPolicyService } from './contact-policy.js';
import { defaultMapping, fieldSourceIssues, profileRows } from './field-sources.js';
import { ConsentSuppression, PolicyChecker, policyError } from './governance/index.js';

export interface CampaignServiceOptions {
  log: { info(message: string): void; error(message: string, err?: unknown): void };
  now?: () => Date;
  contactPolicy: ContactPolicyService;
}

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

/** A run with what its deliveries have done so far, per destination and group. */
export interface CampaignRunView extends StoredCampaignRun {
  deliveries: {
    destinationId: string;
    group: string | null;
    /** Rows queued in deliveries not yet finished. */
    pending: number;
    sent: number;
    rejected: number;
    /** Rows of dead-lettered deliveries. */
    failed: number;
  }[];
}

/** Campaign statuses from which each action may start. */
const EDITABLE: readonly CampaignStatus[] = ['draft', 'scheduled', 'paused', 'failed', 'completed'];
const LAUNCHABLE: readonly CampaignStatus[] = ['draft', 'paused', 'failed', 'completed', 'cancelled'];
/** Statuses in which a due run goes ahead (a failed recurrence tries again at its next tick). */
const RUNNABLE: readonly CampaignStatus[] = ['scheduled', 'running', 'failed'];

const PAGE = 5_000;

/**
 * Campaigns: an audience (include segments minus exclude segments), split into ordered
 * sub-audiences, each into treatment groups and a control group by a hash of (campaign, profile),
 * sent to each treatment's destinations once, at a time, or on a recurrence that sends only the
 * newly qualified. Every run records what it did with each newly qualified profile.
 */
export class CampaignService {
  private readonly now: () => Date;
  private readonly consent: ConsentSuppression;
  private readonly policies: PolicyChecker;

  constructor(
    private readonly store: Store,
    private readonly segments: SegmentService,
    private readonly delivery: Delivery,
    private readonly scheduler: Scheduler,
    private readonly options: CampaignServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.consent = new ConsentSuppression(store);
    this.policies = new PolicyChecker(store);
    scheduler.handle('campaign', (run) => this.execute(run.subjectId, run.dueAt));
  }

  list(): Promise<Campaign[]> {
    return this.store.campaigns.list();
  }

  get(id: string): Promise<Campaign> {
    return this.store.campaigns.get(id);
  }

  /** Saves a draft; only its shape is checked here (launching checks everything). */
  async create(input: unknown): Promise<Campaign> {
    const definition = parseOrThrow(CampaignDefinitionSchema, input, 'campaign');
    await this.refusePolicyViolations(definition);
    const now = this.now();
    const campaign: Campaign = {
      ...definition,
      id: newId('cmp'),
      status: 'draft',
      createdAt: now,
      updatedAt: now,
    };
    await this.store.campaigns.create(campaign);
    return campaign;
  }

  /**
   * Replaces a campaign's definition. A scheduled campaign is checked as at launch and
   * rescheduled; its profiles keep their groups (the hash is of the campaign's id, not its content).
   */
  async update(id: string, input: unknown): Promise<Campaign> {
    const existing = await this.store.campaigns.get(id);
    if (!EDITABLE.includes(existing.status)) {
      throw new UserError(
        'campaign_busy',
        `campaign ${existing.name} is ${existing.status}: it cannot be edited now`,
      );
    }
    const definition = parseOrThrow(CampaignDefinitionSchema, input, 'campaign');
    const campaign: Campaign = { ...existing, ...definition, updatedAt: this.now() };
    if (!('description' in definition)) delete campaign.description;
    if (!('launchDate' in definition)) delete campaign.launchDate;
    if (existing.status === 'scheduled') await this.refuseProblems(campaign);
    else await this.refusePolicyViolations(campaign);
    await this.store.campaigns.update(campaign);
    if (existing.status === 'scheduled') await this.scheduler.schedule('campaign', id, campaign.schedule);
    return campaign;
  }

  async delete(id: string): Promise<void> {
    const campaign = await this.store.campaigns.get(id);
    if (campaign.status === 'running') {
      throw new UserError('campaign_busy', `campaign ${campaign.name} is running: cancel it first`);
    }
    await this.scheduler.unschedule('campaign', id);
    await this.store.campaigns.delete(id);
  }

  /** Every problem that would stop the campaign from launching, each naming its field. */
  async problems(campaign: CampaignDefinition): Promise<Issue[]> {
    const issues: Issue[] = [];
    const segmentIds = new Set(this.segments.list().map((s) => s.id));
    if (campaign.include.length === 0) {
      issues.push({ code: 'required', path: ['include'], message: 'include at least one segment' });
    }
    for (const list of ['include', 'exclude'] as const) {
      for (const [i, id] of campaign[list].entries()) {
        if (!segmentIds.has(id))
          issues.push({ code: 'unknown_reference', path: [list, i], message: `no segment ${id}` });
      }
    }
    if (campaign.subAudiences.length === 0) {
      issues.push({
        code: 'required',
        path: ['subAudiences'],
        message: 'add at least one sub-audience (one without a condition takes the whole audience)',
      });
    }
    const subNames = new Set<string>();
    for (const [s, sub] of campaign.subAudiences.entries()) {
      const at = ['subAudiences', s];
      if (subNames.has(sub.name))
        issues.push({
          code: 'duplicate',
          path: [...at, 'name'],
          message: `a second sub-audience named ${sub.name}`,
        });
      subNames.add(sub.name);
      if (sub.condition)
        issues.push(...(await this.segments.conditionIssues(sub.condition, [...at, 'condition'])));
      else if (s < campaign.subAudiences.length - 1) {
        issues.push({
          code: 'unreachable',
          path: [...at, 'condition'],
          message: `${sub.name} has no condition, so it takes everyone left and the sub-audiences after it would get nobody: give it a condition or move it last`,
        });
      }
      if (sub.treatments.length === 0) {
        issues.push({
          code: 'required',
          path: [...at, 'treatments'],
          message: `add a treatment group to ${sub.name}`,
        });
      }
      const total = sub.treatments.reduce((sum, t) => sum + t.percent, 0) + (sub.control?.percent ?? 0);
      if (Math.abs(total - 100) > 1e-6) {
        issues.push({
          code: 'percent_total',
          path: [...at, 'treatments'],
          message: `the treatment groups${sub.control ? ' and the control group' : ''} of ${sub.name} add up to ${round(total)}%, not 100%`,
        });
      }
      const groupNames = new Set<string>();
      for (const [t, treatment] of sub.treatments.entries()) {
        const tAt = [...at, 'treatments', t];
        if (groupNames.has(treatment.name) || treatment.name.toLowerCase() === 'control') {
          issues.push({
            code: 'duplicate',
            path: [...tAt, 'name'],
            message: `the group name ${treatment.name} is taken in ${sub.name}`,
          });
        }
        groupNames.add(treatment.name);
        if (treatment.destinations.length === 0) {
          issues.push({
            code: 'required',
            path: [...tAt, 'destinations'],
            message: `send ${treatment.name} to at least one destination`,
          });
        }
        const seen = new Set<string>();
        for (const [d, target] of treatment.destinations.entries()) {
          const dAt = [...tAt, 'destinations', d];
          if (seen.has(target.destinationId)) {
            issues.push({
              code: 'duplicate',
              path: [...dAt, 'destinationId'],
              message: `${treatment.name} names this destination twice`,
            });
          }
          seen.add(target.destinationId);
          issues.push(...(await this.destinationIssues(target.destinationId, target.fields, dAt)));
        }
      }
    }
    try {
      checkSchedule(campaign.schedule);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      issues.push(
        ...(err.issues.length > 0
          ? err.issues
          : [{ code: err.code, path: ['schedule'], message: err.message }]),
      );
    }
    return issues;
  }

  /** Checks everything and schedules the campaign's runs. */
  async launch(id: string): Promise<Campaign> {
    const campaign = await this.store.campaigns.get(id);
    if (!LAUNCHABLE.includes(campaign.status)) {
      throw new UserError(
        'campaign_busy',
        `campaign ${campaign.name} is ${campaign.status}: it cannot be launched now`,
      );
    }
    await this.refuseProblems(campaign);
    await this.scheduler.schedule('campaign', id, campaign.schedule);
    await this.store.campaigns.setStatus(id, 'scheduled', this.now());
    return this.store.campaigns.get(id);
  }

  async pause(id: string): Promise<Campaign> {
    await this.transition(id, 'paused', ['scheduled', 'failed'], () => this.scheduler.pause('campaign', id));
    return this.store.campaigns.get(id);
  }

  async resume(id: string): Promise<Campaign> {
    const campaign = await this.store.campaigns.get(id);
    if (campaign.status !== 'paused')
      throw new UserError('campaign_busy', `campaign ${campaign.name} is not paused`);
    await this.refuseProblems(campaign);
    await this.transition(id, 'scheduled', ['paused'], () => this.scheduler.resume('campaign', id));
    return this.store.campaigns.get(id);
  }

  /** Stops the campaign for good: no further run starts (one under way finishes what it queued). */
  async cancel(id: string): Promise<Campaign> {
    await this.transition(id, 'cancelled', ['draft', 'scheduled', 'running', 'paused', 'failed'], () =>
      this.scheduler.unschedule('campaign', id),
    );
    return this.store.campaigns.get(id);
  }

  async runs(id: string): Promise<StoredCampaignRun[]> {
    await this.store.campaigns.get(id);
    return this.store.campaigns.runs(id);
  }

  /** A run with its counts and how its deliveries went. */
  async run(id: string, runId: string): Promise<CampaignRunView> {
    const run = await this.store.campaigns.run(runId);
    if (!run || run.campaignId !== id) throw new NotFoundError('campaign run', runId);
    const totals = new Map<string, CampaignRunView['deliveries'][number]>();
    for (const t of await this.store.campaigns.deliveryTotals(runId)) {
      const key = `${t.destinationId}\u0000${t.group}`;
      const entry = totals.get(key) ?? {
        destinationId: t.destinationId,
        group: t.group,
        pending: 0,
        sent: 0,
        rejected: 0,
        failed: 0,
      };
      totals.set(key, entry);
      if (t.status === 'delivered') {
        entry.sent += t.accepted;
        entry.rejected += t.rejected;
      } else if (t.status === 'dead') entry.failed += t.rows;
      else entry.pending += t.rows;
    }
    return { ...run, deliveries: [...totals.values()] };
  }

  members(
    runId: string,
    options: Parameters<Store['campaigns']['members']>[1],
  ): Promise<CampaignMemberRow[]> {
    return this.store.campaigns.members(runId, options);
  }

  /** A destination's default attributes for campaigns: what is set, else its connector's defaults. */
  async defaultFields(destinationId: string): Promise<FieldMapping> {
    const destination = await this.delivery.destinations.get(destinationId);
    return (
      (await this.store.campaigns.defaultFields(destinationId)) ??
      defaultMapping(destination.capabilities.defaultFields)
    );
  }

  async setDefaultFields(destinationId: string, input: unknown): Promise<FieldMapping> {
    const fields = parseOrThrow(FieldMappingSchema, input, 'default attributes');
    const issues = await this.destinationIssues(destinationId, fields, []);
    if (issues.length > 0) throw problemsError('invalid default attributes', issues);
    await this.store.campaigns.setDefaultFields(destinationId, fields, this.now());
    return fields;
  }

  /** Runs the campaign for a due time (the scheduler calls it); a retry of the same due time is the same run. */
  async execute(campaignId: string, dueAt: Date): Promise<void> {
    const campaign = await this.store.campaigns.get(campaignId).catch((err) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (!campaign || !RUNNABLE.includes(campaign.status)) return;
    const runId = `${campaign.id}.${dueAt.toISOString()}`;
    if ((await this.store.campaigns.run(runId))?.status === 'completed') return;
    await this.store.campaigns.setStatus(campaign.id, 'running', this.now(), RUNNABLE);
    await this.store.campaigns.startRun(runId, campaign.id, dueAt, this.now());
    // Computed again from scratch: what an earlier attempt of this run logged would hold its own profiles back.
    await this.store.contacts.forgetRun(runId);
    try {
      const problems = await this.problems(campaign);
      if (problems.length > 0) throw problemsError(`campaign ${campaign.name} cannot run`, problems);
      const outcome = await this.send(campaign, runId, dueAt);
      await this.store.campaigns.finishRun(runId, campaign.id, this.now(), outcome);
      const more = nextRunAfter(campaign.schedule, this.now(), true) !== undefined;
      await this.store.campaigns.setStatus(campaign.id, more ? 'scheduled' : 'completed', this.now(), [
        'running',
      ]);
      this.options.log.info(
        `campaign ${campaign.name}: run ${runId} queued ${outcome.counts.newlyQualified} newly qualified profiles`,
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.store.campaigns.failRun(runId, this.now(), message);
      await this.store.campaigns.setStatus(campaign.id, 'failed', this.now(), ['running']);
      throw err;
    }
  }

  /** Works out the run's audience, assigns groups, records every newly qualified profile and queues the sends. */
  private async send(campaign: Campaign, runId: string, dueAt: Date) {
    const memberOf = async (ids: readonly string[]) => {
      const members = new Set<string>();
      for (const id of ids) {
        for (let after = ''; ; ) {
          const page = await this.store.memberships.members(id, PAGE * 4, after);
          if (page.length === 0) break;
          for (const m of page) members.add(m.profileId);
          after = page[page.length - 1]!.profileId;
        }
      }
      return members;
    };
    const qualified = await memberOf(campaign.include);
    const excluded = await memberOf(campaign.exclude);
    const before = await this.store.campaigns.lastAudience(campaign.id);
    const audience = [...qualified].filter((p) => !excluded.has(p));
    const alreadyHandled = audience.filter((p) => before.get(p) === true);
    const newlyQualified = audience.filter((p) => !before.has(p));
    // Suppressed, held back or unmatched at the last run and still in the audience: tried again.
    const retried = audience.filter((p) => before.get(p) === false);
    const newly = [...newlyQualified, ...retried].sort();

    const subOf = await this.subAudiencesOf(campaign, newly, dueAt);
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
    // Profiles per sub-audience and treatment group; control and unmatched are recorded at once.
    const buckets = campaign.subAudiences.map((sub) => sub.treatments.map((): string[] => []));
    const recorded: CampaignMemberRow[] = [];
    const handledNow: string[] = [];
    const flush = async (force = false) => {
      if (recorded.length >= PAGE || (force && recorded.length > 0)) {
        await this.store.campaigns.recordMembers(runId, campaign.id, recorded.splice(0));
      }
    };
    for (const profileId of newly) {
      const s = subOf(profileId);
      if (s === undefined) {
        counts.unmatched += 1;
        recorded.push({
          profileId,
          subAudience: null,
          treatment: null,
          destinationId: null,
          outcome: 'unmatched',
          reason: 'no_sub_audience',
        });
      } else {
        const sub = campaign.subAudiences[s]!;
        counts.subAudiences[s]!.profiles += 1;
        const group = groupOf(sub, assignmentPoint(campaign.id, profileId));
        if (group === 'control') {
          counts.subAudiences[s]!.groups[sub.treatments.length]!.profiles += 1;
          recorded.push({
            profileId,
            subAudience: sub.name,
            treatment: 'control',
            destinationId: null,
            outcome: 'control',
            reason: null,
          });
          handledNow.push(profileId);
        } else {
          counts.subAudiences[s]!.groups[group]!.profiles += 1;
          buckets[s]![group]!.push(profileId);
        }
      }
      await flush();
    }
    await flush(true);

    const sent = new Set<string>();
    for (const [s, sub] of campaign.subAudiences.entries()) {
      for (const [t, treatment] of sub.treatments.entries()) {
        const profiles = buckets[s]![t]!;
        for (const target of treatment.destinations) {
          const destination = await this.delivery.destinations.get(target.destinationId);
          const fields = target.fields ?? (await this.defaultFields(destination.id));
          const result = await this.sendGroup(
            campaign,
            runId,
            dueAt,
            { sub: sub.name, treatment: treatment.name },
            destination,
            fields,
            profiles,
          );
          counts.subAudiences[s]!.groups[t]!.destinations.push(result.counts);
          for (const p of result.sent) sent.add(p);
        }
      }
    }
    const handled = new Set([...alreadyHandled, ...handledNow, ...sent]);
    return { counts: counts as unknown as Record<string, unknown>, audience, handled };
  }

  /** Sends one treatment group to one destination, recording each profile's outcome. */
  private async sendGroup(
    campaign: Campaign,
    runId: string,
    dueAt: Date,
    group: { sub: string; treatment: string },
    destination: DestinationView,
    fields: FieldMapping,
    profiles: readonly string[],
  ): Promise<{ counts: DestinationCounts; sent: string[] }> {
    const counts: DestinationCounts = {
      destinationId: destination.id,
      destinationName: destination.name,
      queued: 0,
      suppressed: {},
      held: {},
    };
    const member = (
      profileId: string,
      outcome: CampaignMemberRow['outcome'],
      reason: string | null,
    ): CampaignMemberRow => ({
      profileId,
      subAudience: group.sub,
      treatment: group.treatment,
      destinationId: destination.id,
      outcome,
      reason,
    });
    // Quiet hours and caps are about when people hear from us: the send time, not the due time.
    const sendAt = this.now();
    const screened = await this.screen(destination, profiles, sendAt);
    const rows: CampaignMemberRow[] = [];
    for (const [profileId, reason] of screened.suppressed) {
      counts.suppressed[reason] = (counts.suppressed[reason] ?? 0) + 1;
      rows.push(member(profileId, 'suppressed', reason));
    }
    for (const [profileId, reason] of screened.held) {
      counts.held[reason] = (counts.held[reason] ?? 0) + 1;
      rows.push(member(profileId, 'held', reason));
    }
    const sent = screened.sendable;
    rows.push(...sent.map((p) => member(p, 'sent', null)));
    for (let i = 0; i < rows.length; i += PAGE) {
      await this.store.campaigns.recordMembers(runId, campaign.id, rows.slice(i, i + PAGE));
    }
    const store = this.store;
    async function* pages() {
      for (let i = 0; i < sent.length; i += PAGE)
        yield await profileRows(store, fields, sent.slice(i, i + PAGE));
    }
    // A run repeated after a crash finds its sends already queued: the outbox writes nothing twice.
    await this.delivery.outbox.enqueue({
      destinationId: destination.id,
      activation: { id: campaign.id, name: campaign.name },
      runId,
      group: `${group.sub}_${group.treatment}`,
      part: `${group.sub}/${group.treatment}`,
      runAt: dueAt,
      operation: 'add',
      fields: Object.keys(fields),
      rows: pages(),
    });
    counts.queued = sent.length;
    if (destination.purpose !== undefined) {
      await this.options.contactPolicy.record({
        profileIds: sent,
        channel: destination.purpose,
        activationId: campaign.id,
        runId,
        at: sendAt,
      });
    }
    return { counts, sent };
  }

  /**
   * Which profiles may go to a destination now: those without consent for its purpose are
   * suppressed, those the contact policy holds back are held; the rest are sendable.
   */
  private async screen(
    destination: DestinationView,
    profiles: readonly string[],
    at: Date,
  ): Promise<{ sendable: string[]; suppressed: Map<string, string>; held: Map<string, string> }> {
    const suppressed: Map<string, string> = await this.consent.suppressed(profiles, destination.purpose);
    const open = profiles.filter((p) => !suppressed.has(p));
    // A destination's channel is its purpose: one without a purpose is no channel a policy caps.
    const held =
      destination.purpose === undefined
        ? new Map<string, string>()
        : await this.options.contactPolicy.screen({ profileIds: open, channel: destination.purpose, at });
    return { sendable: open.filter((p) => !held.has(p)), suppressed, held };
  }

  /** For each newly qualified profile, the index of the first sub-audience whose condition it meets. */
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
      const { sql, params } = this.segments.conditionsSql(conditions, at);
      for (const row of await this.store.db.query<{ segment_id: string; profile_id: string }>(sql, params)) {
        if (!wanted.has(row.profile_id)) continue;
        const i = Number(row.segment_id);
        const known = meets.get(row.profile_id);
        if (known === undefined || i < known) meets.set(row.profile_id, i);
      }
    }
    const catchAll = campaign.subAudiences.findIndex((sub) => !sub.condition);
    return (profileId) => meets.get(profileId) ?? (catchAll === -1 ? undefined : catchAll);
  }

  private async destinationIssues(
    destinationId: string,
    fields: FieldMapping | undefined,
    path: (string | number)[],
  ): Promise<Issue[]> {
    const destination = await this.delivery.destinations.get(destinationId).catch((err) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (!destination)
      return [
        {
          code: 'unknown_reference',
          path: [...path, 'destinationId'],
          message: `no destination ${destinationId}`,
        },
      ];
    const issues: Issue[] = [];
    if (!destination.enabled) {
      issues.push({
        code: 'destination_disabled',
        path: [...path, 'destinationId'],
        message: `destination ${destination.name} is disabled${destination.disabledReason ? ` (${destination.disabledReason})` : ''}`,
      });
    }
    const mapping = fields ?? (await this.defaultFields(destination.id));
    const fieldsAt = [...path, 'fields'];
    if (Object.keys(mapping).length === 0) {
      issues.push({
        code: 'required',
        path: fieldsAt,
        message: `choose the attributes to send to ${destination.name}`,
      });
    }
    const accepted = destination.capabilities.fields;
    if (accepted !== 'any') {
      const names = new Set(accepted.map((f) => f.name));
      for (const field of Object.keys(mapping)) {
        if (!names.has(field)) {
          issues.push({
            code: 'unknown_field',
            path: [...fieldsAt, field],
            message: `${destination.name} (${destination.connector}) has no field ${field}; it takes ${[...names].join(', ')}`,
          });
        }
      }
    }
    issues.push(...(await fieldSourceIssues(this.store, mapping, fieldsAt)));
    issues.push(...(await this.policies.checkFields(destination, mapping, fieldsAt)));
    return issues;
  }

  /**
   * A draft may be incomplete, but never one that sends a forbidden attribute: the policy
   * violations of the destinations it names (that exist) stop it from being saved.
   */
  private async refusePolicyViolations(campaign: CampaignDefinition): Promise<void> {
    const issues: Issue[] = [];
    for (const [s, sub] of campaign.subAudiences.entries()) {
      for (const [t, treatment] of sub.treatments.entries()) {
        for (const [d, target] of treatment.destinations.entries()) {
          const destination = await this.delivery.destinations.get(target.destinationId).catch((err) => {
            if (err instanceof NotFoundError) return undefined;
            throw err;
          });
          if (!destination) continue;
          const mapping = target.fields ?? (await this.defaultFields(destination.id));
          const path = ['subAudiences', s, 'treatments', t, 'destinations', d, 'fields'];
          issues.push(...(await this.policies.checkFields(destination, mapping, path)));
        }
      }
    }
    if (issues.length > 0) throw policyError(`campaign ${campaign.name}`, issues);
  }

  private async refuseProblems(campaign: CampaignDefinition): Promise<void> {
    const issues = await this.problems(campaign);
    if (issues.length > 0) throw problemsError(`campaign ${campaign.name} cannot be launched`, issues);
  }

  private async transition(
    id: string,
    to: CampaignStatus,
    from: readonly CampaignStatus[],
    then: () => Promise<void>,
  ): Promise<void> {
    const campaign = await this.store.campaigns.get(id);
    if (!(await this.store.campaigns.setStatus(id, to, this.now(), from))) {
      throw new UserError(
        'campaign_busy',
        `campaign ${campaign.name} is ${campaign.status}: it cannot become ${to}`,
      );
    }
    await then();
  }
}

function problemsError(what: string, issues: Issue[]): UserError {
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new UserError(
    'invalid_campaign',
    `${what}: ${first.path.join('.')}: ${first.message}${more}`,
    issues,
  );
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
