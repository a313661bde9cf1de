import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, quickSettings } from '../test-support/delivery.js';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { seedWorkspace } from '../test-support/workspace.js';

interface Issue {
  path: (string | number)[];
  code: string;
  message: string;
}

describe.each(ENGINES)('the orchestrations API on %s', (engine) => {
  let s: TestServer;
  let folder: string;
  let destinationId: string;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${s.url}/api${path}`, {
      method: 'POST',
      headers: s.admin,
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as { code: string; message: string; issues: Issue[] },
    };
  };

  beforeAll(async () => {
    s = await startTestServer(engine, {}, { delivery: { pollMs: 100, closeGraceMs: 200 } });
    await seedWorkspace(s.app.store);
    folder = await mkdtemp(join(tmpdir(), 'orchestration-api-'));
    destinationId = (
      await api<{ id: string }>(s, '/destinations', {
        method: 'POST',
        status: 201,
        body: {
          name: 'exports',
          connector: 'folder',
          config: { path: folder, filenameTemplate: '{{activation_name}}_{{run_id}}' },
          settings: quickSettings(),
        },
      })
    ).id;
  });
  afterAll(async () => {
    await s.close();
    await rm(folder, { recursive: true, force: true });
  });

  it('lists the views with their columns, and previews a query’s columns and first rows', async () => {
    const { views } = await api<{ views: { name: string; columns: string[] }[] }>(s, '/orchestrations/views');
    expect(views.map((v) => v.name)).toEqual([
      'profiles',
      'identifiers',
      'events',
      'memberships',
      'campaign_runs',
      'campaign_members',
    ]);
    expect(views[0]!.columns).toEqual(['profile_id', 'first_seen_at', 'attributes', 'traits']);

    const preview = await post('/orchestrations/preview', {
      query:
        "SELECT profile_id, value AS email FROM identifiers WHERE namespace = 'email' ORDER BY profile_id;",
      limit: 2,
    });
    expect(preview).toEqual({
      status: 200,
      body: {
        columns: ['profile_id', 'email'],
        rows: [
          { profile_id: 'prf_ann', email: 'ann@example.com' },
          { profile_id: 'prf_bob', email: 'bob@example.com' },
        ],
      },
    });
    const columnsOnly = await post('/orchestrations/preview', {
      query: 'SELECT * FROM memberships',
      limit: 0,
    });
    expect(columnsOnly.body).toEqual({
      columns: ['segment_id', 'segment_name', 'profile_id', 'since'],
      rows: [],
    });
  });

  it('refuses anything but a read-only query, naming body.query', async () => {
    for (const query of ['DELETE FROM events', 'SELECT key_hash FROM api_keys', 'SELECT 1; SELECT 2']) {
      const refused = await post('/orchestrations/preview', { query });
      expect(refused.status, query).toBe(400);
      expect(
        refused.body.issues.map((i) => i.path),
        query,
      ).toEqual([['body', 'query']]);
    }
    const broken = await post('/orchestrations/preview', { query: 'SELECT nothing_here FROM profiles' });
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ code: 'invalid_query', issues: [{ path: ['body', 'query'] }] });
    expect(broken.body.message).toContain('nothing_here');
  });

  it('validates input, naming each field', async () => {
    const invalid = await post('/orchestrations', {
      name: '',
      query: 'SELECT 1 AS one',
      destinationId,
      schedule: { kind: 'recurring', cron: '0 9 * * *', timeZone: 'Mars/Olympus' },
      skipUnchanged: 'yes',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.issues.map((i) => i.path.join('.'))).toEqual([
      'body.name',
      'body.schedule.timeZone',
      'body.skipUnchanged',
    ]);
    const unknown = await post('/orchestrations', {
      name: 'nowhere',
      query: 'SELECT profile_id FROM profiles',
      destinationId: 'dst_nope',
      schedule: { kind: 'now' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues).toEqual([expect.objectContaining({ path: ['body', 'destinationId'] })]);
  });

  it('creates, changes, runs, lists runs of and deletes an orchestration', async () => {
    const created = await post('/orchestrations', {
      name: 'gold members',
      query:
        "SELECT profile_id, segment_name FROM memberships WHERE segment_name = 'Gold' ORDER BY profile_id",
      destinationId,
      schedule: { kind: 'at', at: '2099-01-01T00:00:00Z' },
    });
    expect(created.status).toBe(201);
    const orchestration = created.body as unknown as { id: string; columns: string[]; nextRunAt: string };
    expect(orchestration).toMatchObject({
      columns: ['profile_id', 'segment_name'],
      nextRunAt: '2099-01-01T00:00:00.000Z',
      skipUnchanged: false,
      enabled: true,
    });
    const taken = await post('/orchestrations', { ...created.body, name: 'gold members' });
    expect(taken.status).toBe(409);
    expect(taken.body.issues.map((i) => i.path)).toEqual([['body', 'name']]);

    const changed = await api<{ skipUnchanged: boolean; name: string }>(
      s,
      `/orchestrations/${orchestration.id}`,
      {
        method: 'PUT',
        body: { skipUnchanged: true },
      },
    );
    expect(changed).toMatchObject({ skipUnchanged: true, name: 'gold members' });
    const { orchestrations } = await api<{ orchestrations: { id: string }[] }>(s, '/orchestrations');
    expect(orchestrations.map((o) => o.id)).toContain(orchestration.id);

    const run = await api<{ status: string; rowCount: number; runId: string }>(
      s,
      `/orchestrations/${orchestration.id}/run`,
      { method: 'POST', status: 201 },
    );
    expect(run).toMatchObject({ status: 'succeeded', rowCount: 2 });
    const file = await eventually('the file', async () => {
      const names = await readdir(folder);
      return names.find((n) => n.startsWith('gold members_'));
    });
    expect(file).toBe(`gold members_${run.runId}.csv`);
    expect(parse(await readFile(join(folder, file), 'utf8'), { columns: true })).toEqual([
      { profile_id: 'prf_ann', segment_name: 'Gold' },
      { profile_id: 'prf_bob', segment_name: 'Gold' },
    ]);
    const { runs } = await api<{ runs: { runId: string }[] }>(s, `/orchestrations/${orchestration.id}/runs`);
    expect(runs.map((r) => r.runId)).toEqual([run.runId]);
    const { deliveries } = await api<{ deliveries: unknown[] }>(
      s,
      `/deliveries?run=${encodeURIComponent(run.runId)}`,
    );
    expect(deliveries).toHaveLength(1);
    const listed = await eventually('the activations list to count the sent rows', async () => {
      const { activations } = await api<{
        activations: { id: string; kind: string; counts: Record<string, number> }[];
      }>(s, '/activations?kind=orchestration');
      const mine = activations.find((a) => a.id === orchestration.id);
      return mine?.counts.sent === 2 ? mine : undefined;
    });
    expect(listed).toMatchObject({
      kind: 'orchestration',
      status: 'scheduled',
      lastRunStatus: 'succeeded',
      nextRunAt: '2099-01-01T00:00:00.000Z',
      counts: { lastRows: 2, failed: 0 },
    });

    const deleted = await fetch(`${s.url}/api/orchestrations/${orchestration.id}`, {
      method: 'DELETE',
      headers: s.admin,
    });
    expect(deleted.status).toBe(204);
    const gone = await fetch(`${s.url}/api/orchestrations/${orchestration.id}`, { headers: s.admin });
    expect(gone.status).toBe(404);
    const openApi = await api<{ paths: Record<string, unknown> }>(s, '/openapi.json');
    expect(Object.keys(openApi.paths)).toEqual(
      expect.arrayContaining([
        '/api/orchestrations',
        '/api/orchestrations/preview',
        '/api/orchestrations/{id}/run',
      ]),
    );
  });
});
