import pg from 'pg';
import { PostgresConfigSchema, postgresConnector } from '../../delivery/destinations/postgres/index.js';
import type { DeliveryRecord } from '../../delivery/index.js';
import type { ConformanceTarget } from '../conformance.js';
import { TEST_DATABASE_URL } from '../engines.js';

/** The PostgreSQL table connector against the test database, in a schema of its own (dropped on close). */
export const postgresTarget: ConformanceTarget = {
  connector: postgresConnector,
  secrets: ['connectionString'],
  async start() {
    const schema = `conf_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    const config = PostgresConfigSchema.parse({
      connectionString: TEST_DATABASE_URL,
      schema,
      table: 'audience',
      mode: 'mirror',
    });
    // Before the first delivery there is no table: nobody is present.
    const keys = async (): Promise<string[]> =>
      admin.query<{ key: string }>(`SELECT profile_id AS key FROM "${schema}".audience ORDER BY 1`).then(
        (result) => result.rows.map((r) => r.key),
        (err: { code?: string }) => {
          if (err.code === '42P01') return [];
          throw err;
        },
      );
    return {
      config,
      // The test server trusts local connections, so an unknown user stands in for wrong credentials.
      badConfig: { ...config, connectionString: 'postgres://sluice_nobody:wrong@127.0.0.1:5432/test' },
      rows: people,
      invalidRow: { email: 'nobody@example.com', first_name: 'Nobody' },
      keyOf: (row) => String(row.profile_id),
      present: keys,
      received: async () => (await keys()).length,
      async close() {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      },
    };
  },
};

/** `n` people with `profile_id`, `email` and `first_name`, numbered from `first` (same number, same person). */
function people(n: number, first = 0): DeliveryRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    profile_id: `prof_${String(first + i).padStart(6, '0')}`,
    email: `person${first + i}@example.com`,
    first_name: `Person ${first + i}`,
  }));
}
