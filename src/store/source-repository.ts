import type { CreateSource, Source, SourceKind } from '../core/index.js';
import { NotFoundError, newId, UserError } from '../core/index.js';
import type { Database } from './database.js';
import { isUniqueViolation } from './dialect.js';

type SourceRow = {
  id: string;
  name: string;
  kind: string;
  description: string | null;
  write_key: string;
  created_at: Date;
};

const toSource = (r: SourceRow): Source => ({
  id: r.id,
  name: r.name,
  kind: r.kind as SourceKind,
  description: r.description,
  writeKey: r.write_key,
  createdAt: r.created_at,
});

const nameConflict = (name: string) =>
  new UserError('conflict', `a source named ${JSON.stringify(name)} already exists`, [
    { code: 'conflict', path: ['name'], message: 'name is taken' },
  ]);

/** Sources and their write keys. */
export class SourceRepository {
  // Write keys are looked up on every tracking request; sources change rarely.
  private byWriteKey = new Map<string, Source>();

  constructor(private readonly db: Database) {}

  async create(input: CreateSource): Promise<Source> {
    if (await this.nameTaken(input.name)) throw nameConflict(input.name);
    const source: Source = {
      id: newId('src'),
      name: input.name,
      kind: input.kind,
      description: input.description ?? null,
      writeKey: newId('wk', 24),
      createdAt: new Date(),
    };
    try {
      await this.db.query(
        'INSERT INTO sources (id, name, kind, description, write_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [source.id, source.name, source.kind, source.description, source.writeKey, source.createdAt],
      );
    } catch (err) {
      // A concurrent create of the same name won between the check and the insert (unique index).
      if (isUniqueViolation(err) || (await this.nameTaken(input.name))) throw nameConflict(input.name);
      throw err;
    }
    return source;
  }

  private async nameTaken(name: string): Promise<boolean> {
    return (await this.db.query('SELECT id FROM sources WHERE name = $1', [name])).length > 0;
  }

  async list(): Promise<Source[]> {
    return (await this.db.query<SourceRow>('SELECT * FROM sources ORDER BY created_at, name')).map(toSource);
  }

  async get(id: string): Promise<Source> {
    const rows = await this.db.query<SourceRow>('SELECT * FROM sources WHERE id = $1', [id]);
    if (!rows[0]) throw new NotFoundError('source', id);
    return toSource(rows[0]);
  }

  /** Finds a source by id or by name (the CLI takes either). */
  async find(idOrName: string): Promise<Source> {
    const rows = await this.db.query<SourceRow>('SELECT * FROM sources WHERE id = $1 OR name = $1', [
      idOrName,
    ]);
    if (!rows[0]) throw new NotFoundError('source', idOrName);
    return toSource(rows[0]);
  }

  async findByWriteKey(writeKey: string): Promise<Source | undefined> {
    const cached = this.byWriteKey.get(writeKey);
    if (cached) return cached;
    const rows = await this.db.query<SourceRow>('SELECT * FROM sources WHERE write_key = $1', [writeKey]);
    if (!rows[0]) return undefined;
    const source = toSource(rows[0]);
    this.byWriteKey.set(writeKey, source);
    return source;
  }
}
