import {
  type Campaign,
  type CampaignDefinition,
  type CampaignStatus,
  type FieldMapping,
  type MemberOutcome,
  NotFoundError,
  UserError,
} from '../core/index.js';
import type { ContactRow } from './contact-repository.js';
import type { Database, SqlValue } from './database.js';
import { placeholders, readJson } from './dialect.js';
import { storableJson } from './storable-text.js';

/** One campaign run as stored; `counts` is what the run computed (see the activation module). */
export interface StoredCampaignRun {
  id: string;
  campaignId: string;
  status: 'running' | 'completed' | 'failed';
  /** Whether the run's plan is committed (what is left is to send it). */
  planned: boolean;
  dueAt: Date;
  startedAt: Date;
  finishedAt: Date | undefined;
  counts: Record<string, unknown> | undefined;
  error: string | undefined;
}

/** What a run did with one profile (at one destination, or in the control group). */
export interface CampaignMemberRow {
  profileId: string;
  subAudience: string | null;
  treatment: string | null;
  destinationId: string | null;
  outcome: MemberOutcome;
  reason: string | null;
}

/** Rows a run's deliveries sent, per destination and group, by delivery status. */
export interface RunDeliveryTotals {
  destinationId: string;
  group: string | null;
  status: string;
  rows: number;
  accepted: number;
  rejected: number;
}

type CampaignRow = {
  id: string;
  name: string;
  status: string;
  definition: unknown;
  created_at: Date;
  updated_at: Date;
};

type RunRow = {
  id: string;
  campaign_id: string;
  status: string;
  planned: boolean;
  due_at: Date;
  started_at: Date;
  finished_at: Date | null;
  counts: unknown;
  error: string | null;
};

const toCampaign = (r: CampaignRow): Campaign => ({
  ...(readJson(r.definition) as unknown as CampaignDefinition),
  id: r.id,
  name: r.name,
  status: r.status as CampaignStatus,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRun = (r: RunRow): StoredCampaignRun => ({
  id: r.id,
  campaignId: r.campaign_id,
  status: r.status as StoredCampaignRun['status'],
  planned: r.planned,
  dueAt: r.due_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at ?? undefined,
  counts: r.counts === null ? undefined : readJson(r.counts),
  error: r.error ?? undefined,
});

const nameTaken = (name: string) =>
  new UserError('conflict', `a campaign named ${JSON.stringify(name)} already exists`, [
    { code: 'conflict', path: ['name'], message: 'name is taken' },
  ]);

/** Campaigns, their runs, what each run did with each profile, and the audience recurrences compare with. */
export class CampaignRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<Campaign[]> {
    return (await this.db.query<CampaignRow>('SELECT * FROM campaigns ORDER BY name')).map(toCampaign);
  }

  async get(id: string): Promise<Campaign> {
    const rows = await this.db.query<CampaignRow>('SELECT * FROM campaigns WHERE id = $1', [id]);
    if (!rows[0]) throw new NotFoundError('campaign', id);
    return toCampaign(rows[0]);
  }

  async create(c: Campaign): Promise<void> {
    await this.db.transaction(async (tx) => {
      if ((await tx.query('SELECT 1 FROM campaigns WHERE name = $1', [c.name])).length > 0)
        throw nameTaken(c.name);
      await tx.query(
        `INSERT INTO campaigns (id, name, status, definition, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [c.id, c.name, c.status, storableJson(definitionOf(c)), c.createdAt, c.updatedAt],
      );
    });
  }

  async update(c: Campaign): Promise<void> {
    await this.db.transaction(async (tx) => {
      const clash = await tx.query('SELECT 1 FROM campaigns WHERE name = $1 AND id <> $2', [c.name, c.id]);
      if (clash.length > 0) throw nameTaken(c.name);
      await tx.query('UPDATE campaigns SET name = $2, definition = $3, updated_at = $4 WHERE id = $1', [
        c.id,
        c.name,
        storableJson(definitionOf(c)),
        c.updatedAt,
      ]);
    });
  }

  /** Moves a campaign to `status`, only from one of `from` (so a cancel and a run finishing cannot undo each other). */
  async setStatus(
    id: string,
    status: CampaignStatus,
    at: Date,
    from?: readonly CampaignStatus[],
  ): Promise<boolean> {
    const params: SqlValue[] = [id, status, at, ...(from ?? [])];
    const rows = await this.db.query(
      `UPDATE campaigns SET status = $2, updated_at = $3 WHERE id = $1
       ${from ? `AND status IN (${placeholders(from.length, 4)})` : ''} RETURNING id`,
      params,
    );
    return rows.length > 0;
  }

  async delete(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = await tx.query('DELETE FROM campaigns WHERE id = $1 RETURNING id', [id]);
      if (rows.length === 0) throw new NotFoundError('campaign', id);
      for (const table of ['campaign_runs', 'campaign_members', 'campaign_audience']) {
        await tx.query(`DELETE FROM ${table} WHERE campaign_id = $1`, [id]);
      }
    });
  }

  /** Whether a campaign includes, excludes or refers to the segment (it cannot be deleted then). */
  async usesSegment(segmentId: string): Promise<string | undefined> {
    for (const c of await this.list()) {
      if (JSON.stringify(definitionOf(c)).includes(JSON.stringify(segmentId))) return c.name;
    }
    return undefined;
  }

  async runs(campaignId: string, limit = 100): Promise<StoredCampaignRun[]> {
    const rows = await this.db.query<RunRow>(
      'SELECT * FROM campaign_runs WHERE campaign_id = $1 ORDER BY due_at DESC LIMIT $2',
      [campaignId, limit],
    );
    return rows.map(toRun);
  }

  async run(runId: string): Promise<StoredCampaignRun | undefined> {
    const rows = await this.db.query<RunRow>('SELECT * FROM campaign_runs WHERE id = $1', [runId]);
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  /** The latest run of each campaign. */
  async lastRuns(): Promise<Map<string, StoredCampaignRun>> {
    const rows = await this.db.query<RunRow>(
      `SELECT * FROM campaign_runs r WHERE due_at = (SELECT max(due_at) FROM campaign_runs WHERE campaign_id = r.campaign_id)`,
    );
    return new Map(rows.map((r) => [r.campaign_id, toRun(r)]));
  }

  /**
   * Starts (or restarts, after a crash before its plan was committed) the run for a due time:
   * nothing of an unplanned attempt is kept.
   */
  async startRun(runId: string, campaignId: string, dueAt: Date, at: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM campaign_runs WHERE id = $1', [runId]);
      await tx.query('DELETE FROM campaign_members WHERE run_id = $1', [runId]);
      await tx.query(
        `INSERT INTO campaign_runs (id, campaign_id, status, planned, due_at, started_at) VALUES ($1, $2, 'running', false, $3, $4)`,
        [runId, campaignId, dueAt, at],
      );
    });
  }

  /**
   * Commits a run's plan in one transaction: what it does with each profile, the campaign's
   * audience as of this run (each profile marked handled if sent or held out as control, by this
   * run or an earlier one), the contacts it makes, and its counts. From here the run only sends
   * what the plan says, however often it is resumed.
   */
  async commitPlan(
    runId: string,
    campaignId: string,
    plan: {
      members: readonly CampaignMemberRow[];
      audience: readonly string[];
      handled: ReadonlySet<string>;
      contacts: readonly ContactRow[];
      counts: Record<string, unknown>;
    },
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (let i = 0; i < plan.members.length; i += 50_000) {
        await tx.bulkInsert(
          'campaign_members',
          [
            'run_id',
            'campaign_id',
            'profile_id',
            'sub_audience',
            'treatment',
            'destination_id',
            'outcome',
            'reason',
          ],
          plan.members
            .slice(i, i + 50_000)
            .map((r) => [
              runId,
              campaignId,
              r.profileId,
              r.subAudience,
              r.treatment,
              r.destinationId,
              r.outcome,
              r.reason,
            ]),
        );
      }
      await tx.query('DELETE FROM campaign_audience WHERE campaign_id = $1', [campaignId]);
      const audience = plan.audience.map((p) => [campaignId, p, runId, plan.handled.has(p)]);
      if (audience.length > 0) {
        await tx.bulkInsert(
          'campaign_audience',
          ['campaign_id', 'profile_id', 'run_id', 'handled'],
          audience,
        );
      }
      if (plan.contacts.length > 0) {
        await tx.bulkInsert(
          'contact_log',
          ['profile_id', 'channel', 'activation_id', 'run_id', 'contacted_at'],
          plan.contacts.map((c) => [c.profileId, c.channel, c.activationId, c.runId, c.at]),
        );
      }
      await tx.query('UPDATE campaign_runs SET planned = true, counts = $2 WHERE id = $1', [
        runId,
        storableJson(plan.counts),
      ]);
    });
  }

  /** The profiles a planned run sends, per sub-audience, treatment group and destination. */
  async plannedSends(
    runId: string,
  ): Promise<{ subAudience: string; treatment: string; destinationId: string; profileIds: string[] }[]> {
    const rows = await this.db.query<{
      sub_audience: string;
      treatment: string;
      destination_id: string;
      profile_id: string;
    }>(
      `SELECT sub_audience, treatment, destination_id, profile_id FROM campaign_members
       WHERE run_id = $1 AND outcome = 'sent' ORDER BY sub_audience, treatment, destination_id, profile_id`,
      [runId],
    );
    const out: { subAudience: string; treatment: string; destinationId: string; profileIds: string[] }[] = [];
    for (const r of rows) {
      const last = out[out.length - 1];
      if (
        last &&
        last.subAudience === r.sub_audience &&
        last.treatment === r.treatment &&
        last.destinationId === r.destination_id
      ) {
        last.profileIds.push(r.profile_id);
      } else {
        out.push({
          subAudience: r.sub_audience,
          treatment: r.treatment,
          destinationId: r.destination_id,
          profileIds: [r.profile_id],
        });
      }
    }
    return out;
  }

  /** Runs of a campaign whose plan is committed but not all sent (a crash or a failure while sending), oldest first. */
  async unsentRuns(campaignId: string): Promise<StoredCampaignRun[]> {
    const rows = await this.db.query<RunRow>(
      `SELECT * FROM campaign_runs WHERE campaign_id = $1 AND planned AND status <> 'completed' ORDER BY due_at`,
      [campaignId],
    );
    return rows.map(toRun);
  }

  /** Whether a run of the campaign is under way (it may not be launched again meanwhile). */
  async running(campaignId: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM campaign_runs WHERE campaign_id = $1 AND status = 'running' LIMIT 1`,
      [campaignId],
    );
    return rows.length > 0;
  }

  async completeRun(runId: string, at: Date): Promise<void> {
    await this.db.query(
      `UPDATE campaign_runs SET status = 'completed', finished_at = $2, error = NULL WHERE id = $1`,
      [runId, at],
    );
  }

  async failRun(runId: string, at: Date, error: string): Promise<void> {
    await this.db.query(
      `UPDATE campaign_runs SET status = 'failed', finished_at = $2, error = $3 WHERE id = $1`,
      [runId, at, error],
    );
  }

  /**
   * The campaign's audience at its last planned run: each profile (merged profiles under their
   * survivor, which counts as handled if any of them was), and whether it was handled.
   */
  async lastAudience(campaignId: string): Promise<Map<string, boolean>> {
    const rows = await this.db.query<{ profile_id: string; handled: boolean }>(
      `SELECT coalesce(a.profile_id, c.profile_id) AS profile_id, c.handled
       FROM campaign_audience c LEFT JOIN profile_aliases a ON a.alias_id = c.profile_id
       WHERE c.campaign_id = $1`,
      [campaignId],
    );
    const out = new Map<string, boolean>();
    for (const r of rows) out.set(r.profile_id, (out.get(r.profile_id) ?? false) || r.handled);
    return out;
  }

  /**
   * What a run did, profile by profile (`outcome` to filter), in profile then destination order;
   * `after` is the previous page's last `cursor` (a profile may have a row per destination).
   */
  async members(
    runId: string,
    options: {
      outcome?: MemberOutcome | undefined;
      limit?: number | undefined;
      after?: string | undefined;
    } = {},
  ): Promise<(CampaignMemberRow & { cursor: string })[]> {
    const key = `profile_id || '/' || coalesce(destination_id, '')`;
    const params: SqlValue[] = [runId, options.after ?? '', options.limit ?? 1000];
    const rows = await this.db.query<{
      profile_id: string;
      sub_audience: string | null;
      treatment: string | null;
      destination_id: string | null;
      outcome: string;
      reason: string | null;
      cursor: string;
    }>(
      `SELECT profile_id, sub_audience, treatment, destination_id, outcome, reason, ${key} AS cursor FROM campaign_members
       WHERE run_id = $1 AND ${key} > $2 ${options.outcome ? `AND outcome = $4` : ''}
       ORDER BY ${key} LIMIT $3`,
      options.outcome ? [...params, options.outcome] : params,
    );
    return rows.map((r) => ({
      profileId: r.profile_id,
      subAudience: r.sub_audience,
      treatment: r.treatment,
      destinationId: r.destination_id,
      outcome: r.outcome as MemberOutcome,
      reason: r.reason,
      cursor: r.cursor,
    }));
  }

  /** How a run's deliveries went, per destination, group and status. */
  async deliveryTotals(runId: string): Promise<RunDeliveryTotals[]> {
    const rows = await this.db.query<{
      destination_id: string;
      group_name: string | null;
      status: string;
      rows: number;
      accepted: number | null;
      rejected: number | null;
    }>(
      `SELECT destination_id, group_name, status, sum(row_count) AS rows, sum(accepted) AS accepted, sum(rejected) AS rejected
       FROM deliveries WHERE run_id = $1 GROUP BY destination_id, group_name, status`,
      [runId],
    );
    return rows.map((r) => ({
      destinationId: r.destination_id,
      group: r.group_name,
      status: r.status,
      rows: Number(r.rows),
      accepted: Number(r.accepted ?? 0),
      rejected: Number(r.rejected ?? 0),
    }));
  }

  async defaultFields(destinationId: string): Promise<FieldMapping | undefined> {
    const rows = await this.db.query<{ fields: unknown }>(
      'SELECT fields FROM destination_default_fields WHERE destination_id = $1',
      [destinationId],
    );
    return rows[0] ? (readJson(rows[0].fields) as FieldMapping) : undefined;
  }

  async setDefaultFields(destinationId: string, fields: FieldMapping, at: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM destination_default_fields WHERE destination_id = $1', [destinationId]);
      await tx.query(
        'INSERT INTO destination_default_fields (destination_id, fields, updated_at) VALUES ($1, $2, $3)',
        [destinationId, storableJson(fields), at],
      );
    });
  }
}

function definitionOf(c: Campaign): CampaignDefinition {
  const { id: _id, status: _status, createdAt: _c, updatedAt: _u, ...definition } = c;
  return definition;
}
