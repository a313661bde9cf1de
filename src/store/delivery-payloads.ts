import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from './database.js';

/**
 * Where the rows of deliveries wait until the destination confirms them: chunks of text (the
 * delivery module's value lines), numbered by their first row's position. PostgreSQL keeps them in
 * a table every process can read; the embedded DuckDB store keeps them as files beside its
 * database (one process uses it), because DuckDB rewrites a table's open row group at every
 * checkpoint, which for chunks of a megabyte makes staging millions of rows quadratic.
 */
export interface DeliveryPayloads {
  /** Whether the chunks live in the database (dropped in the receipt's transaction) or beside it (after). */
  readonly inDatabase: boolean;
  stage(deliveryId: string, firstPosition: number, rowCount: number, text: string): Promise<void>;
  chunks(deliveryId: string): AsyncGenerator<string>;
  /** Drops the rows of a delivery (in `tx` where they are in the database). */
  drop(deliveryId: string, tx: Database): Promise<void>;
  /** Drops rows staged under ids starting with `prefix` (an enqueue that never finished). */
  dropPrefix(prefix: string): Promise<void>;
}

/** Chunks as rows of `delivery_rows`. */
export class TablePayloads implements DeliveryPayloads {
  readonly inDatabase = true;
  constructor(private readonly db: Database) {}

  async stage(deliveryId: string, firstPosition: number, rowCount: number, text: string): Promise<void> {
    await this.db.bulkInsert(
      'delivery_rows',
      ['delivery_id', 'position', 'row_count', 'records'],
      [[deliveryId, firstPosition, rowCount, text]],
    );
  }

  async *chunks(deliveryId: string): AsyncGenerator<string> {
    for (let from = 0; ; ) {
      const page = await this.db.query<{ position: number; row_count: number; records: string }>(
        `SELECT position, row_count, records FROM delivery_rows WHERE delivery_id = $1 AND position >= $2
         ORDER BY position LIMIT 8`,
        [deliveryId, from],
      );
      for (const chunk of page) yield chunk.records;
      const last = page[page.length - 1];
      if (page.length < 8 || !last) return;
      from = Number(last.position) + last.row_count;
    }
  }

  async drop(deliveryId: string, tx: Database): Promise<void> {
    await tx.query('DELETE FROM delivery_rows WHERE delivery_id = $1', [deliveryId]);
  }

  async dropPrefix(prefix: string): Promise<void> {
    await this.db.query('DELETE FROM delivery_rows WHERE starts_with(delivery_id, $1)', [prefix]);
  }
}

/**
 * Chunks as files: `<dir>/<delivery id, URI-encoded>/<position>.lines`, each written under a
 * temporary name, synced, then renamed, so a chunk is either whole or absent after a crash.
 */
export class FilePayloads implements DeliveryPayloads {
  readonly inDatabase = false;
  constructor(private readonly dir: string) {}

  async stage(deliveryId: string, firstPosition: number, _rowCount: number, text: string): Promise<void> {
    const folder = this.folderOf(deliveryId);
    const path = join(folder, `${String(firstPosition).padStart(12, '0')}.lines`);
    if ((await mkdir(folder, { recursive: true })) !== undefined) {
      // A new folder must survive a power loss as surely as the chunk inside it.
      await syncDirectory(this.dir);
    }
    const temp = `${path}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDirectory(folder);
  }

  async *chunks(deliveryId: string): AsyncGenerator<string> {
    const folder = this.folderOf(deliveryId);
    const names = await readdir(folder).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    for (const name of names.filter((n) => n.endsWith('.lines')).sort()) {
      yield await readFile(join(folder, name), 'utf8');
    }
  }

  async drop(deliveryId: string): Promise<void> {
    await rm(this.folderOf(deliveryId), { recursive: true, force: true });
  }

  async dropPrefix(prefix: string): Promise<void> {
    const encoded = encodeURIComponent(prefix);
    const names = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((n) => n.startsWith(encoded))
        .map((n) => rm(join(this.dir, n), { recursive: true, force: true })),
    );
  }

  private folderOf(deliveryId: string): string {
    return join(this.dir, encodeURIComponent(deliveryId));
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
