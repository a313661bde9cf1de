import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../test-support/engines.js';
import { startTestServer, type TestServer } from '../test-support/server.js';

describe.each(ENGINES)('POST /api/sources/:id/imports on %s', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => {
    await s.close();
  });

  it('imports an uploaded gzipped CSV with a mapping and lists it', async () => {
    const source = await s.createSource('crm', 'profiles');
    const csv = 'id,mail,points\n1,a@x.com,3\n2,,4\n3,c@x.com,lots\n';
    const mapping = {
      kind: 'profiles',
      recordId: 'id',
      identifiers: { email: 'mail' },
      attributes: { points: { column: 'points', type: 'integer' } },
    };
    const res = await fetch(
      `${s.url}/api/sources/${source.id}/imports?format=csv&fileName=crm.csv.gz&mapping=${encodeURIComponent(JSON.stringify(mapping))}`,
      {
        method: 'POST',
        headers: { Authorization: s.admin.Authorization!, 'Content-Type': 'application/octet-stream' },
        body: gzipSync(csv),
      },
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      fileName: 'crm.csv.gz',
      rowsRead: 3,
      rowsStored: 1,
      rowsRejected: 2,
      status: 'completed',
    });

    const rejects = (await (
      await fetch(`${s.url}/api/sources/${source.id}/rejects`, { headers: s.admin })
    ).json()) as {
      rejects: { rowNumber: number; reason: string }[];
    };
    expect(rejects.rejects.map((r) => r.rowNumber).sort()).toEqual([3, 4]);
    const list = (await (
      await fetch(`${s.url}/api/sources/${source.id}/imports`, { headers: s.admin })
    ).json()) as { imports: unknown[] };
    expect(list.imports).toHaveLength(1);
  });

  it('says where a bad mapping is wrong', async () => {
    const source = await s.createSource('loyalty', 'profiles');
    const res = await fetch(
      `${s.url}/api/sources/${source.id}/imports?format=csv&mapping=${encodeURIComponent('{"kind":"profiles","identifiers":{"Email":"x"}}')}`,
      {
        method: 'POST',
        headers: { Authorization: s.admin.Authorization! },
        body: 'x\n1\n',
      },
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { issues: { path: (string | number)[] }[] };
    expect(body.issues[0]?.path).toEqual(['query', 'mapping', 'identifiers', 'Email']);
  });

  it('needs an admin key', async () => {
    const source = await s.createSource('pos', 'profiles');
    const res = await fetch(`${s.url}/api/sources/${source.id}/imports?format=csv`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${source.writeKey}` },
      body: 'email\na@x.com\n',
    });
    expect(res.status).toBe(403);
  });
});
