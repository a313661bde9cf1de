import { type DestinationSettings, NotFoundError, UserError } from '../core/index.js';
import type { Database } from './database.js';
import { readJson, readJsonArray } from './dialect.js';
import { storableJson } from './storable-text.js';

/** A destination as stored: `secrets` is the encrypted blob of its secret config fields. */
export interface StoredDestination {
  id: string;
  name: string;
  connector: string;
  config: Record<string, unknown>;
  secrets: string | undefined;
  settings: DestinationSettings;
  /** The consent purpose a profile needs to be sent here; undefined: none needed. */
  purpose: string | undefined;
  /** What the destination is used for, as data-usage policies name it. */
  marketingActions: string[];
  enabled: boolean;
  disabledReason: string | undefined;
  createdAt: Date;
  updatedAt: Date;
}

type Row = {
  id: string;
  name: string;
  connector: string;
  config: unknown;
  secrets: string | null;
  settings: unknown;
  purpose: string | null;
  marketing_actions: unknown;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: Date;
  updated_at: Date;
};

const toDestination = (r: Row): StoredDestination => ({
  id: r.id,
  name: r.name,
  connector: r.connector,
  config: readJson(r.config),
  secrets: r.secrets ?? undefined,
  settings: readJson(r.settings) as unknown as DestinationSettings,
  purpose: r.purpose ?? undefined,
  marketingActions: r.marketing_actions === null ? [] : (readJsonArray(r.marketing_actions) as string[]),
  enabled: r.enabled,
  disabledReason: r.disabled_reason ?? undefined,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const nameConflict = (name: string) =>
  new UserError('conflict', `a destination named ${JSON.stringify(name)} already exists`, [
    { code: 'conflict', path: ['name'], message: 'name is taken' },
  ]);

/** Destinations: where activations send audiences. */
export class DestinationRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<StoredDestination[]> {
    return (await this.db.query<Row>('SELECT * FROM destinations ORDER BY name')).map(toDestination);
  }

  async get(id: string): Promise<StoredDestination> {
    const rows = await this.db.query<Row>('SELECT * FROM destinations WHERE id = $1', [id]);
    if (!rows[0]) throw new NotFoundError('destination', id);
    return toDestination(rows[0]);
  }

  async create(d: StoredDestination): Promise<void> {
    await this.db.transaction(async (tx) => {
      const taken = await tx.query('SELECT 1 FROM destinations WHERE name = $1', [d.name]);
      if (taken.length > 0) throw nameConflict(d.name);
      await tx.query(
        `INSERT INTO destinations (id, name, connector, config, secrets, settings, enabled, disabled_reason, created_at, updated_at, purpose, marketing_actions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          d.id,
          d.name,
          d.connector,
          storableJson(d.config),
          d.secrets ?? null,
          storableJson(d.settings),
          d.enabled,
          d.disabledReason ?? null,
          d.createdAt,
          d.updatedAt,
          d.purpose ?? null,
          storableJson(d.marketingActions),
        ],
      );
    });
  }

  /** Writes a destination's name, config, secrets, settings, purpose and marketing actions (`setEnabled` alone changes whether it is enabled). */
  async update(d: Omit<StoredDestination, 'enabled' | 'disabledReason'>): Promise<void> {
    await this.db.transaction(async (tx) => {
      const taken = await tx.query('SELECT 1 FROM destinations WHERE name = $1 AND id <> $2', [d.name, d.id]);
      if (taken.length > 0) throw nameConflict(d.name);
      const rows = await tx.query(
        `UPDATE destinations SET name = $2, config = $3, secrets = $4, settings = $5, updated_at = $6,
         purpose = $7, marketing_actions = $8
         WHERE id = $1 RETURNING id`,
        [
          d.id,
          d.name,
          storableJson(d.config),
          d.secrets ?? null,
          storableJson(d.settings),
          d.updatedAt,
          d.purpose ?? null,
          storableJson(d.marketingActions),
        ],
      );
      if (rows.length === 0) throw new NotFoundError('destination', d.id);
    });
  }

  /** Stops (or restarts) delivery to a destination, saying why (e.g. it answered 410 Gone). */
  async setEnabled(id: string, enabled: boolean, reason: string | undefined, at: Date): Promise<void> {
    await this.db.query(
      'UPDATE destinations SET enabled = $2, disabled_reason = $3, updated_at = $4 WHERE id = $1',
      [id, enabled, enabled ? null : (reason ?? null), at],
    );
  }

  async delete(id: string): Promise<void> {
    const rows = await this.db.query('DELETE FROM destinations WHERE id = $1 RETURNING id', [id]);
    if (rows.length === 0) throw new NotFoundError('destination', id);
  }
}
