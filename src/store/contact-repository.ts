import type { Database } from './database.js';
import { placeholders, readJson } from './dialect.js';
import { storableJson } from './storable-text.js';

/** One contact made with a profile on a channel, by an activation's run. */
export interface ContactRow {
  profileId: string;
  channel: string;
  activationId: string;
  runId: string;
  at: Date;
}

const CHUNK = 1000;

/** The workspace's settings (the contact policy is one) and the log of contacts frequency caps count. */
export class ContactRepository {
  constructor(private readonly db: Database) {}

  async setting(name: string): Promise<Record<string, unknown> | undefined> {
    const rows = await this.db.query<{ value: unknown }>(
      'SELECT value FROM workspace_settings WHERE name = $1',
      [name],
    );
    return rows[0] ? readJson(rows[0].value) : undefined;
  }

  async putSetting(name: string, value: unknown, at: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM workspace_settings WHERE name = $1', [name]);
      await tx.query('INSERT INTO workspace_settings (name, value, updated_at) VALUES ($1, $2, $3)', [
        name,
        storableJson(value),
        at,
      ]);
    });
  }

  /** Contacts per profile on a channel since a time (profiles without any are absent). */
  async counts(profileIds: readonly string[], channel: string, since: Date): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < profileIds.length; i += CHUNK) {
      const ids = profileIds.slice(i, i + CHUNK);
      const rows = await this.db.query<{ profile_id: string; n: number }>(
        // Contacts made under a profile id since merged away count for the survivor.
        `SELECT coalesce(a.profile_id, l.profile_id) AS profile_id, count(*) AS n
         FROM contact_log l LEFT JOIN profile_aliases a ON a.alias_id = l.profile_id
         WHERE l.channel = $1 AND l.contacted_at > $2
           AND coalesce(a.profile_id, l.profile_id) IN (${placeholders(ids.length, 3)})
         GROUP BY coalesce(a.profile_id, l.profile_id)`,
        [channel, since, ...ids],
      );
      for (const r of rows) out.set(r.profile_id, Number(r.n));
    }
    return out;
  }

  async record(rows: readonly ContactRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.bulkInsert(
      'contact_log',
      ['profile_id', 'channel', 'activation_id', 'run_id', 'contacted_at'],
      rows.map((r) => [r.profileId, r.channel, r.activationId, r.runId, r.at]),
    );
  }

  /** Forgets what a run recorded (it is being computed again after a crash). */
  async forgetRun(runId: string): Promise<void> {
    await this.db.query('DELETE FROM contact_log WHERE run_id = $1', [runId]);
  }
}
