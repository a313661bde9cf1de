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
import type { Delivery } from '../delivery/index.js';
import { checkSchedule, nextRunAfter, type Scheduler } from '../scheduler/index.js';
import type { SegmentService } from '../segments/index.js';
import type { CampaignMemberRow, Store, StoredCampaignRun } from '../store/index.js';
import { CampaignRunner } from './campaign-runner.js';
import type { ContactPolicyService } from './contact-policy.js';
import { defaultMapping, fieldSourceIssues } from './field-sources.js';
import { ConsentSuppression, PolicyChecker, policyError } from './governance/index.js';

export interface CampaignServiceOptions {
  log: { info(message: string): void; error(message: string, err?: unknown): void };
  now?: () => Date;
  contactPolicy: ContactPolicyService;
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

/**
 * Campaigns: an audience (include segments minus exclude segments), split into ordered
 * sub-audiences, each into treatment groups and a control group by a hash of (campaign, profile),
 * sent to each treatment's destinations once, at a time, or on a recurrence that sends only the
 * newly qualified. Every run records what it did with each newly qualified profile.
 */
export class CampaignService {
  private readonly now: () => Date;
  private readonly policies: PolicyChecker;
  private readonly runner: CampaignRunner;

  constructor(
    private readonly store: Store,
    private readonly segments: SegmentService,
    private readonly delivery: Delivery,
    private readonly scheduler: Scheduler,
    private readonly options: CampaignServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.policies = new PolicyChecker(store);
    this.runner = new CampaignRunner({
      store,
      segments,
      delivery,
      consent: new ConsentSuppression(store),
      contactPolicy: options.contactPolicy,
      now: this.now,
      defaultFields: (id) => this.defaultFields(id),
    });
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
    // A live schedule follows the edit (a paused one stays paused; a failed recurrence goes on).
    const live =
      existing.status === 'scheduled' ||
      existing.status === 'paused' ||
      (existing.status === 'failed' && campaign.schedule.kind === 'recurring');
    if (live) {
      await this.scheduler.schedule('campaign', id, campaign.schedule);
      if (existing.status === 'paused') await this.scheduler.pause('campaign', id);
    }
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
      if (
        campaign.schedule.kind === 'recurring' &&
        nextRunAfter(campaign.schedule, this.now(), false) === undefined
      ) {
        issues.push({
          code: 'never_runs',
          path: ['schedule'],
          message:
            'this schedule has no run left (its end is past, or the cron never matches between start and end)',
        });
      }
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
    // A cancelled run may still be sending: a second would read the same audience and send it again.
    if (await this.store.campaigns.running(id)) {
      throw new UserError(
        'campaign_busy',
        `a run of campaign ${campaign.name} is still under way: launch it when it ends`,
      );
    }
    await this.refuseProblems(campaign);
    // The status first: a run the scheduler starts at once must find the campaign scheduled.
    await this.store.campaigns.setStatus(id, 'scheduled', this.now());
    await this.scheduler.schedule('campaign', id, campaign.schedule);
    return this.store.campaigns.get(id);
  }

  async pause(id: string): Promise<Campaign> {
    const campaign = await this.store.campaigns.get(id);
    if (campaign.status !== 'scheduled' && campaign.status !== 'failed') {
      throw new UserError(
        'campaign_busy',
        `campaign ${campaign.name} is ${campaign.status}: it cannot become paused`,
      );
    }
    // The schedule first: once paused, no run can start between the two writes.
    await this.scheduler.pause('campaign', id);
    await this.transition(id, 'paused', ['scheduled', 'failed'], async () => {});
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
  ): Promise<(CampaignMemberRow & { cursor: string })[]> {
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

  /**
   * Runs the campaign for a due time (the scheduler calls it). A retry of the same due time is the
   * same run: planned already, it only sends what is not queued yet. Runs planned earlier and not
   * all sent (a failure while sending) are sent first, so nothing a plan promised is lost.
   */
  async execute(campaignId: string, dueAt: Date): Promise<void> {
    const campaign = await this.store.campaigns.get(campaignId).catch((err) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (!campaign) return;
    const runId = `${campaign.id}.${dueAt.toISOString()}`;
    const existing = await this.store.campaigns.run(runId);
    if (existing?.status === 'completed') {
      // Completed before a crash kept the campaign from leaving `running`.
      await this.settleStatus(campaign);
      return;
    }
    if (!(await this.store.campaigns.setStatus(campaign.id, 'running', this.now(), RUNNABLE))) return;
    try {
      for (const earlier of await this.store.campaigns.unsentRuns(campaign.id)) {
        if (earlier.id === runId) continue;
        await this.runner.send(campaign, earlier.id, earlier.dueAt);
        await this.store.campaigns.completeRun(earlier.id, this.now());
      }
      if (!existing?.planned) {
        await this.store.campaigns.startRun(runId, campaign.id, dueAt, this.now());
        const problems = await this.problems(campaign);
        if (problems.length > 0) throw problemsError(`campaign ${campaign.name} cannot run`, problems);
        const counts = await this.runner.plan(campaign, runId, dueAt);
        this.options.log.info(
          `campaign ${campaign.name}: run ${runId} planned ${counts.newlyQualified} newly qualified and ${counts.retried} retried profiles`,
        );
      }
      await this.runner.send(campaign, runId, dueAt);
      await this.store.campaigns.completeRun(runId, this.now());
      await this.settleStatus(campaign);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.store.campaigns.failRun(runId, this.now(), message);
      await this.store.campaigns.setStatus(campaign.id, 'failed', this.now(), ['running']);
      throw err;
    }
  }

  /** After a run: scheduled while the schedule has more to run, else completed. */
  private async settleStatus(campaign: Campaign): Promise<void> {
    const more = nextRunAfter(campaign.schedule, this.now(), true) !== undefined;
    await this.store.campaigns.setStatus(campaign.id, more ? 'scheduled' : 'completed', this.now(), [
      'running',
    ]);
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
    if (accepted !== 'any' && accepted.some((f) => f.identifier)) {
      const identifiers = accepted.filter((f) => f.identifier).map((f) => f.name);
      if (!identifiers.some((f) => f in mapping)) {
        issues.push({
          code: 'identifier_required',
          path: fieldsAt,
          message: `${destination.name} matches people by ${identifiers.join(' or ')}: send at least one of them`,
        });
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
