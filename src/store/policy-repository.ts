import { NotFoundError, type Policy, UserError } from '../core/index.js';
import type { Database } from './database.js';
import { readJsonArray } from './dialect.js';
import { storableJson } from './storable-text.js';

type Row = {
  id: string;
  name: string;
  description: string | null;
  labels: unknown;
  marketing_actions: unknown;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
};

const toPolicy = (r: Row): Policy => ({
  id: r.id,
  name: r.name,
  description: r.description ?? undefined,
  labels: readJsonArray(r.labels) as string[],
  marketingActions: readJsonArray(r.marketing_actions) as string[],
  enabled: Boolean(r.enabled),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const nameConflict = (name: string) =>
  new UserError('conflict', `a policy named ${JSON.stringify(name)} already exists`, [
    { code: 'conflict', path: ['name'], message: 'name is taken' },
  ]);

/** Data-usage policies: which labels may not go to which marketing actions. */
export class PolicyRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<Policy[]> {
    return (await this.db.query<Row>('SELECT * FROM policies ORDER BY name')).map(toPolicy);
  }

  async get(id: string): Promise<Policy> {
    const rows = await this.db.query<Row>('SELECT * FROM policies WHERE id = $1', [id]);
    if (!rows[0]) throw new NotFoundError('policy', id);
    return toPolicy(rows[0]);
  }

  /** Writes a policy whole, creating it when its id is new; its name must be free. */
  async put(p: Policy): Promise<void> {
    await this.db.transaction(async (tx) => {
      const taken = await tx.query('SELECT 1 FROM policies WHERE name = $1 AND id <> $2', [p.name, p.id]);
      if (taken.length > 0) throw nameConflict(p.name);
      await tx.query('DELETE FROM policies WHERE id = $1', [p.id]);
      await tx.query(
        `INSERT INTO policies (id, name, description, labels, marketing_actions, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          p.id,
          p.name,
          p.description ?? null,
          storableJson(p.labels),
          storableJson(p.marketingActions),
          p.enabled,
          p.createdAt,
          p.updatedAt,
        ],
      );
    });
  }

  async delete(id: string): Promise<void> {
    const rows = await this.db.query('DELETE FROM policies WHERE id = $1 RETURNING id', [id]);
    if (rows.length === 0) throw new NotFoundError('policy', id);
  }
}
