import { type Condition, type EvaluationMode, NotFoundError, UserError } from '../core/index.js';
import type { Database } from './database.js';
import { readJson } from './dialect.js';
import type { MembersCatchUp } from './members-catch-up.js';

/** A segment as stored (the sentence is rendered by the segments module). */
export interface StoredSegment {
  id: string;
  name: string;
  description?: string | undefined;
  condition: Condition;
  mode: EvaluationMode;
  modeReason?: string | undefined;
  createdAt: Date;
  updatedAt: Date;
}

type Row = {
  id: string;
  name: string;
  description: string | null;
  definition: unknown;
  mode: string;
  mode_reason: string | null;
  created_at: Date;
  updated_at: Date;
};

const toSegment = (r: Row): StoredSegment => ({
  id: r.id,
  name: r.name,
  ...(r.description === null ? {} : { description: r.description }),
  condition: readJson(r.definition) as unknown as Condition,
  mode: r.mode as EvaluationMode,
  ...(r.mode_reason === null ? {} : { modeReason: r.mode_reason }),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const nameConflict = (name: string) =>
  new UserError('conflict', `a segment named ${JSON.stringify(name)} already exists`, [
    { code: 'conflict', path: ['name'], message: 'name is taken' },
  ]);

/** Segment definitions. */
export class SegmentRepository {
  constructor(
    private readonly db: Database,
    private readonly catchUp: MembersCatchUp,
  ) {}

  async list(): Promise<StoredSegment[]> {
    return (await this.db.query<Row>('SELECT * FROM segments ORDER BY name')).map(toSegment);
  }

  async get(id: string): Promise<StoredSegment> {
    const rows = await this.db.query<Row>('SELECT * FROM segments WHERE id = $1', [id]);
    if (!rows[0]) throw new NotFoundError('segment', id);
    return toSegment(rows[0]);
  }

  /** A version of the whole set of definitions, to notice changes made by another process. */
  async signature(): Promise<string> {
    const rows = await this.db.query<{ n: number; latest: Date | null }>(
      'SELECT count(*) AS n, max(updated_at) AS latest FROM segments',
    );
    return `${rows[0]?.n}:${rows[0]?.latest?.getTime() ?? 0}`;
  }

  async insert(s: StoredSegment): Promise<void> {
    await this.assertNameFree(s.name, s.id);
    await this.db
      .query(
        `INSERT INTO segments (id, name, description, definition, mode, mode_reason, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          s.id,
          s.name,
          s.description ?? null,
          JSON.stringify(s.condition),
          s.mode,
          s.modeReason ?? null,
          s.createdAt,
          s.updatedAt,
        ],
      )
      .catch((err: Error) => {
        throw /unique|duplicate|constraint/i.test(err.message) ? nameConflict(s.name) : err;
      });
  }

  async update(s: StoredSegment): Promise<void> {
    await this.assertNameFree(s.name, s.id);
    await this.db.query(
      `UPDATE segments SET name = $2, description = $3, definition = $4, mode = $5, mode_reason = $6, updated_at = $7
       WHERE id = $1`,
      [
        s.id,
        s.name,
        s.description ?? null,
        JSON.stringify(s.condition),
        s.mode,
        s.modeReason ?? null,
        s.updatedAt,
      ],
    );
  }

  /** Deletes a segment and its current members; its ledger stays as history. */
  async delete(id: string): Promise<void> {
    await this.get(id);
    // Changes still to apply would bring the members back after they are deleted.
    await this.catchUp.run();
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM segments WHERE id = $1', [id]);
      await tx.query('DELETE FROM segment_members WHERE segment_id = $1', [id]);
    });
  }

  private async assertNameFree(name: string, id: string): Promise<void> {
    const rows = await this.db.query('SELECT 1 FROM segments WHERE name = $1 AND id <> $2', [name, id]);
    if (rows.length > 0) throw nameConflict(name);
  }
}
