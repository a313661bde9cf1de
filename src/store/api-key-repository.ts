import { createHash } from 'node:crypto';
import { newId } from '../core/index.js';
import type { Database } from './database.js';

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Admin API keys. Only a hash is stored; the key itself is shown once, when it is made. */
export class ApiKeyRepository {
  // Hash -> until when it is known valid; short so that a revocation reaches every process soon.
  private readonly valid = new Map<string, number>();

  constructor(private readonly db: Database) {}

  /** Creates a key and returns it with its plain text (the only time it is available). */
  async create(name: string, key = newId('sk', 32)): Promise<{ key: string; apiKey: ApiKey }> {
    const apiKey: ApiKey = { id: newId('key'), name, prefix: key.slice(0, 8), createdAt: new Date() };
    await this.db.query(
      'INSERT INTO api_keys (id, name, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)',
      [apiKey.id, apiKey.name, hashKey(key), apiKey.prefix, apiKey.createdAt],
    );
    return { key, apiKey };
  }

  /** Registers a key given by configuration (`SLUICE_ADMIN_KEY`) unless it is already known. */
  /** Registers a key given by configuration; says `revoked` when it was revoked (it stays so). */
  async ensure(name: string, key: string): Promise<'created' | 'active' | 'revoked'> {
    const rows = await this.db.query<{ revoked_at: Date | null }>(
      'SELECT revoked_at FROM api_keys WHERE key_hash = $1',
      [hashKey(key)],
    );
    if (rows.length === 0) {
      await this.create(name, key);
      return 'created';
    }
    return rows[0]!.revoked_at ? 'revoked' : 'active';
  }

  async count(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      'SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL',
    );
    return rows[0]?.n ?? 0;
  }

  async list(): Promise<ApiKey[]> {
    const rows = await this.db.query<{ id: string; name: string; prefix: string; created_at: Date }>(
      'SELECT id, name, prefix, created_at FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at',
    );
    return rows.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix, createdAt: r.created_at }));
  }

  async revoke(id: string): Promise<boolean> {
    const rows = await this.db.query(
      'UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING key_hash',
      [id, new Date()],
    );
    this.valid.clear();
    return rows.length > 0;
  }

  async isValid(key: string): Promise<boolean> {
    const hash = hashKey(key);
    if ((this.valid.get(hash) ?? 0) > Date.now()) return true;
    const rows = await this.db.query('SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [
      hash,
    ]);
    if (rows.length > 0) this.valid.set(hash, Date.now() + 30_000);
    return rows.length > 0;
  }
}
