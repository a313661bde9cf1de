import type { Database } from './database.js';

/** The counter holding the seq of the last ledger change applied to `segment_members`. */
export const MEMBERS_THROUGH = 'segment_members_through';

/**
 * Brings `segment_members` up to the ledger. Streaming changes are committed to the ledger alone
 * (cheap appends); the members table follows in batches, because updating it costs a scan of the
 * members whatever the batch size. Whoever reads the members runs this first, so a read sees every
 * change committed before it; a crash between the two is repaired by the next run.
 *
 * One run at a time in this process; on PostgreSQL the counter row's lock also keeps other
 * processes out while a run holds it.
 */
export class MembersCatchUp {
  private last: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;

  constructor(private readonly db: Database) {}

  /** Applies to the members every ledger change committed before this call. */
  run(): Promise<void> {
    // A run not started yet covers this caller too; one under way may have missed its changes.
    if (this.next) return this.next;
    const next = this.last.then(
      () => this.applyPending(),
      () => this.applyPending(),
    );
    this.next = next;
    this.last = next;
    return next;
  }

  /**
   * Runs `write` (a batch evaluation, which brings the members up itself) between catch-ups, so
   * that the two never update the members at once. Streaming appends to the ledger go on meanwhile.
   */
  exclusive<T>(write: () => Promise<T>): Promise<T> {
    const result = this.last.then(write, write);
    this.next = undefined;
    this.last = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  private async applyPending(): Promise<void> {
    this.next = undefined;
    await this.db.transaction((tx) => applyPendingIn(tx));
  }
}

/**
 * In `tx`: applies to the members every ledger change committed and not yet applied, and returns
 * the seq they are applied through. Holds the counter row (PostgreSQL) until `tx` ends.
 */
export async function applyPendingIn(tx: Database): Promise<number> {
  // An update first: it locks the counter on PostgreSQL (and reads its latest value there).
  const [row] = await tx.query<{ value: number }>(
    'UPDATE counters SET value = value WHERE name = $1 RETURNING value',
    [MEMBERS_THROUGH],
  );
  const after = Number(row?.value ?? 0);
  // Ledger rows commit in seq order (one writer at a time holds the ledger's counter or
  // append chain), so everything up to the highest seq seen is committed.
  const [top] = await tx.query<{ seq: number | null }>(
    'SELECT max(seq) AS seq FROM segment_changes WHERE seq > $1',
    [after],
  );
  const through = Number(top?.seq ?? 0);
  if (through <= after) return after;
  await applyLedgerRange(tx, after, through);
  await markApplied(tx, through);
  return through;
}

/** Records in `tx` that the members hold every ledger change through `seq`. */
export async function markApplied(tx: Database, seq: number): Promise<void> {
  await tx.query('UPDATE counters SET value = $2 WHERE name = $1', [MEMBERS_THROUGH, seq]);
}

/**
 * Sets the members of every key changed by ledger rows with seq in (`after`, `through`] to what
 * the last of its changes says. Applying a range again gives the same members, so a range may
 * include changes that were already applied (a batch evaluation applies its own at once).
 */
async function applyLedgerRange(tx: Database, after: number, through: number): Promise<void> {
  // One join with the changed keys. Narrowing by profile first (a semi-join on one column, then
  // the pairs) cost DuckDB a second pass (2 million members against 610,000 changes, alone:
  // 180-186 ms against 304-343 ms; 2,000 changes: 66 ms against 75-102 ms). In the streaming
  // bench, under load, a catch-up of about 615,000 changes took 1.4-1.5 s against 2.1-3.1 s.
  await tx.query(
    `DELETE FROM segment_members
     USING (SELECT DISTINCT segment_id, profile_id FROM segment_changes WHERE seq > $1 AND seq <= $2) c
     WHERE c.segment_id = segment_members.segment_id AND c.profile_id = segment_members.profile_id`,
    [after, through],
  );
  // The last change of each key. DuckDB finds it in one grouping (arg_max), a third faster than
  // numbering each key's changes (450,000 changes, alone: 119-165 ms against 201-218 ms). While
  // streaming, a catch-up holds the ledger's writes back for as long as it runs: streaming bench,
  // reduced, 577-741 ms against 891-1,135 ms.
  const last =
    tx.dialect.name === 'duckdb'
      ? `SELECT segment_id, profile_id, latest.changed_at FROM (
           SELECT segment_id, profile_id, arg_max({'entered': entered, 'changed_at': changed_at}, seq) AS latest
           FROM segment_changes WHERE seq > $1 AND seq <= $2 GROUP BY segment_id, profile_id
         ) c WHERE latest.entered`
      : `SELECT segment_id, profile_id, changed_at FROM (
           SELECT segment_id, profile_id, changed_at, entered,
             row_number() OVER (PARTITION BY segment_id, profile_id ORDER BY seq DESC) AS n
           FROM segment_changes WHERE seq > $1 AND seq <= $2
         ) c WHERE n = 1 AND entered`;
  await tx.query(`INSERT INTO segment_members (segment_id, profile_id, since) ${last}`, [after, through]);
}
