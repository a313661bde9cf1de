import { NotFoundError } from '../core/index.js';
import type { Database } from './database.js';
import { placeholders, readJsonArray } from './dialect.js';
import { storableJson } from './storable-text.js';

/** The data-usage labels of one attribute (a field source: `email`, `trait:ltv`, `identifier:email`). */
export interface AttributeLabels {
  attribute: string;
  labels: string[];
  updatedAt: Date;
}

type Row = { attribute: string; labels: unknown; updated_at: Date };

const toLabels = (r: Row): AttributeLabels => ({
  attribute: r.attribute,
  labels: readJsonArray(r.labels) as string[],
  updatedAt: r.updated_at,
});

/** Data-usage labels on attributes, computed traits and identifier namespaces. */
export class LabelRepository {
  constructor(private readonly db: Database) {}

  async list(): Promise<AttributeLabels[]> {
    return (await this.db.query<Row>('SELECT * FROM data_labels ORDER BY attribute')).map(toLabels);
  }

  async get(attribute: string): Promise<AttributeLabels> {
    const rows = await this.db.query<Row>('SELECT * FROM data_labels WHERE attribute = $1', [attribute]);
    if (!rows[0]) throw new NotFoundError('labelled attribute', attribute);
    return toLabels(rows[0]);
  }

  /** The labels of some attributes; those without any are left out. */
  async of(attributes: readonly string[]): Promise<Map<string, string[]>> {
    if (attributes.length === 0) return new Map();
    const rows = await this.db.query<Row>(
      `SELECT * FROM data_labels WHERE attribute IN (${placeholders(attributes.length)})`,
      attributes as string[],
    );
    return new Map(rows.map((r) => [r.attribute, readJsonArray(r.labels) as string[]]));
  }

  /** Replaces an attribute's labels; none removes the entry. */
  async set(attribute: string, labels: readonly string[], at: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM data_labels WHERE attribute = $1', [attribute]);
      if (labels.length === 0) return;
      await tx.query('INSERT INTO data_labels (attribute, labels, updated_at) VALUES ($1, $2, $3)', [
        attribute,
        storableJson(labels),
        at,
      ]);
    });
  }
}
