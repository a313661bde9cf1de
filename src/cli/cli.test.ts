import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Source } from '../core/index.js';
import { openStore } from '../store/index.js';
import { startWebhookReceiver } from '../test-support/webhook-receiver.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Each command is a process of its own over one DuckDB data dir, as an operator would run them.
describe('sluice CLI on DuckDB', { timeout: 90_000 }, () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  function sluice(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', ...args],
        {
          cwd: ROOT,
          env: { ...process.env, SLUICE_DATA_DIR: dataDir, SLUICE_DATABASE_URL: '', SLUICE_ADMIN_KEY: '' },
          timeout: 60_000,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  async function file(name: string, content: string): Promise<string> {
    const path = join(dataDir, name);
    await writeFile(path, content);
    return path;
  }

  it('creates sources, refuses a taken name or an unknown kind, and lists them', async () => {
    const created = await sluice('sources', 'create', 'crm', '--kind', 'profiles');
    expect(created.code, created.stderr).toBe(0);
    const source = JSON.parse(created.stdout) as Source;
    expect(source).toMatchObject({ name: 'crm', kind: 'profiles' });
    expect(source.writeKey).toMatch(/^wk_/);

    const again = await sluice('sources', 'create', 'crm', '--kind', 'events');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error: a source named "crm" already exists');

    const badKind = await sluice('sources', 'create', 'web', '--kind', 'videos');
    expect(badKind.code).toBe(1);
    expect(badKind.stderr).toMatch(/^error: invalid source at kind: /);

    const noKind = await sluice('sources', 'create', 'web');
    expect(noKind.code).toBe(1);
    expect(noKind.stderr).toContain("required option '--kind <kind>' not specified");

    const list = await sluice('sources', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(source.id);
    expect(list.stdout).toContain(source.writeKey);
    expect(list.stdout).not.toContain('web');
  });

  it('creates an admin key that the store accepts, and never lists it', async () => {
    const created = await sluice('keys', 'create', '--name', 'ci');
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^sk_[\w-]+$/);
    expect(created.stderr).toContain('"ci"');

    const list = await sluice('keys', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('ci');
    expect(list.stdout).toContain(key.slice(0, 8));
    expect(list.stdout).not.toContain(key);

    const id = /key (key_[\w-]+)/.exec(created.stderr)?.[1];
    expect(id).toBeDefined();
    const store = await openStore({ dataDir });
    try {
      expect(await store.apiKeys.isValid(key)).toBe(true);
      expect(await store.apiKeys.isValid(`${key}x`)).toBe(false);
    } finally {
      await store.close();
    }
    expect((await sluice('keys', 'revoke', id!)).stdout).toContain(`revoked ${id}`);
    expect((await sluice('keys', 'revoke', id!)).stdout).toContain(`no active key ${id}`);
  });

  it('imports a file into a source once, and counts it in the stats', async () => {
    const csv = await file('customers.csv', 'email,first_name\na@x.com,Ann\n,Bob\nc@x.com,Cat\n');
    const first = await sluice('import', csv, '--source', 'crm');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^import imp_[\w-]+: 3 rows read, 2 stored, 1 rejected in [\d.]+ s$/m);

    const again = await sluice('import', csv, '--source', 'crm');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('was already imported into this source');

    const stats = await sluice('sources', 'stats', 'crm');
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      profileRecords: { total: 2 },
      rejects: { total: 1 },
      imports: { total: 1, completed: 1, failed: 0 },
    });
  });

  it('stitches imported customers into profiles and shows one by identifier, with its traits', async () => {
    const csv = await file('loyalty.csv', 'email,phone,first_name\n A@X.com ,(415) 555-2671,Ann\n');
    expect((await sluice('sources', 'create', 'loyalty', '--kind', 'profiles')).code).toBe(0);
    expect((await sluice('import', csv, '--source', 'loyalty')).code).toBe(0);
    const trait = await sluice('traits', 'create', 'records_seen', '--aggregate', 'count');
    expect(trait.code, trait.stderr).toBe(0);
    const bad = await sluice('traits', 'create', 'total', '--aggregate', 'sum');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/sum needs the property to aggregate/);

    const shown = await sluice('profile', 'email:a@x.com');
    expect(shown.code, shown.stderr).toBe(0);
    const profile = JSON.parse(shown.stdout) as {
      id: string;
      identifiers: { namespace: string; value: string }[];
    };
    expect(profile.identifiers.map((i) => `${i.namespace}:${i.value}`).sort()).toEqual([
      'email:a@x.com',
      'phone:+14155552671',
    ]);
    expect(JSON.parse((await sluice('profile', profile.id)).stdout)).toMatchObject({ id: profile.id });
    const missing = await sluice('profile', 'email:nobody@x.com');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/identifier "email:nobody@x.com" was not found/);

    const rebuilt = await sluice('identity', 'rebuild');
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ refusals: 0 });
    expect(JSON.parse((await sluice('profile', 'phone:+1 415 555 2671')).stdout)).toMatchObject({
      id: profile.id,
    });
  });

  it('creates, evaluates and previews segments, and reads their members and ledger', async () => {
    // The customers imported above carry a first_name attribute.
    const definition = JSON.stringify({
      name: 'Anns',
      condition: { kind: 'attribute', attribute: 'first_name', test: { operator: 'equals', value: 'ann' } },
    });
    const created = await sluice('segments', 'create', '--json', definition);
    expect(created.code, created.stderr).toBe(0);
    const segment = JSON.parse(created.stdout) as { id: string; mode: string; evaluation: unknown };
    expect(segment).toMatchObject({
      mode: 'streaming',
      evaluation: { segments: [{ entered: 1, members: 1 }] },
    });
    const members = JSON.parse((await sluice('segments', 'members', segment.id)).stdout) as {
      profileId: string;
    }[];
    expect(members).toHaveLength(1);
    const changes = JSON.parse((await sluice('segments', 'changes', segment.id)).stdout) as {
      entered: boolean;
    }[];
    expect(changes.map((c) => c.entered)).toEqual([true]);
    const listed = JSON.parse((await sluice('segments', 'list')).stdout) as {
      name: string;
      members: number;
    }[];
    expect(listed).toContainEqual(expect.objectContaining({ name: 'Anns', members: 1 }));
    const preview = await sluice(
      'segments',
      'preview',
      '--json',
      JSON.stringify({ condition: JSON.parse(definition).condition }),
    );
    expect(JSON.parse(preview.stdout)).toMatchObject({ count: 1, sample: [members[0]!.profileId] });
    const bad = await sluice(
      'segments',
      'create',
      '--json',
      '{"name":"x","condition":{"kind":"event","event":"Nope"}}',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/condition\.event: no event named "Nope" has been received/);
  });

  it('stops with a clear message and exit code 1 on a bad import', async () => {
    const csv = await file('more.csv', 'email\nb@x.com\n');
    const cases: [string[], RegExp][] = [
      [['import', csv, '--source', 'nowhere'], /^error: source "nowhere" was not found$/m],
      [['import', join(dataDir, 'missing.csv'), '--source', 'crm'], /^error: no file at .*missing\.csv$/m],
      [['import', csv], /required option '--source <source>' not specified/],
      [['import', csv, '--source', 'crm', '--format', 'xlsx'], /^error: --format must be one of /m],
      [
        ['import', csv, '--source', 'crm', '--mapping', join(dataDir, 'none.json')],
        /cannot read the mapping/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await sluice(...args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stderr, args.join(' ')).not.toMatch(/^\s+at /m);
    }
    const stats = JSON.parse((await sluice('sources', 'stats', 'crm')).stdout) as {
      profileRecords: { total: number };
    };
    expect(stats.profileRecords.total).toBe(2);
  });

  it('manages destinations without ever printing their secrets, and reads the outbox', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const definition = {
        name: 'crm hook',
        connector: 'webhook',
        config: { url: receiver.url, secret: receiver.secret },
      };
      const created = await sluice('destinations', 'create', '--json', JSON.stringify(definition));
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).not.toContain(receiver.secret);
      const destination = JSON.parse(created.stdout) as { id: string; secretsSet: string[] };
      expect(destination.secretsSet).toEqual(['secret']);

      const tested = await sluice('destinations', 'test', destination.id);
      expect(tested.code, tested.stderr).toBe(0);
      expect(JSON.parse(tested.stdout)).toMatchObject({ ok: true });
      receiver.respond(() => ({ status: 403 }));
      const refused = await sluice('destinations', 'test', destination.id);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({
        ok: false,
        error: { message: expect.stringMatching(/403/) },
      });
      expect(refused.stdout + refused.stderr).not.toContain(receiver.secret);

      const shown = await sluice('destinations', 'show', destination.id);
      expect(shown.stdout).not.toContain(receiver.secret);
      expect((await sluice('destinations', 'list')).stdout).toContain('crm hook');
      const bad = await sluice(
        'destinations',
        'create',
        '--json',
        '{"name":"x","connector":"webhook","config":{}}',
      );
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/config\.url/);

      const deliveries = await sluice(
        'deliveries',
        'list',
        '--destination',
        destination.id,
        '--status',
        'dead',
      );
      expect(deliveries.code, deliveries.stderr).toBe(0);
      const noTarget = await sluice('deliveries', 'replay');
      expect(noTarget.code).toBe(1);
      expect(noTarget.stderr).toMatch(/give a delivery id or --destination/);
      const unknown = await sluice('deliveries', 'replay', 'run_x:dst_y:add:0');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/delivery "run_x:dst_y:add:0" was not found/);
    } finally {
      await receiver.close();
    }
  });

  it('saves campaign drafts, refuses a launch naming every problem, lists activations and sets the contact policy', async () => {
    const segments = JSON.parse((await sluice('segments', 'list')).stdout) as { id: string; name: string }[];
    const anns = segments.find((x) => x.name === 'Anns')!;
    const draft = {
      name: 'Ann news',
      include: [anns.id, 'seg_gone'],
      subAudiences: [{ name: 'All', treatments: [{ name: 'T', percent: 90 }], control: { percent: 10 } }],
    };
    const created = await sluice('campaigns', 'create', '--json', JSON.stringify(draft));
    expect(created.code, created.stderr).toBe(0);
    const campaign = JSON.parse(created.stdout) as { id: string; status: string };
    expect(campaign.status).toBe('draft');
    const launch = await sluice('campaigns', 'launch', campaign.id);
    expect(launch.code).toBe(1);
    expect(launch.stderr).toMatch(/include\.1: no segment seg_gone \(and 1 more\)/);
    const shown = JSON.parse((await sluice('campaigns', 'show', campaign.id)).stdout) as {
      problems: { path: (string | number)[] }[];
    };
    expect(shown.problems.map((p) => p.path.join('.'))).toEqual([
      'include.1',
      'subAudiences.0.treatments.0.destinations',
    ]);
    const listed = await sluice('activations', '--kind', 'campaign');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/Ann news.*draft/);

    const badPolicy = await sluice(
      'contact-policy',
      'set',
      '--json',
      '{"frequencyCaps":[{"channel":"email","max":0}]}',
    );
    expect(badPolicy.code).toBe(1);
    expect(badPolicy.stderr).toMatch(/frequencyCaps\.0\.max/);
    const policy = { frequencyCaps: [{ channel: 'email', max: 2, per: { amount: 7, unit: 'days' } }] };
    expect((await sluice('contact-policy', 'set', '--json', JSON.stringify(policy))).code).toBe(0);
    expect(JSON.parse((await sluice('contact-policy', 'show')).stdout)).toEqual(policy);
  });

  it('labels attributes and manages data-usage policies', async () => {
    const set = await sluice('labels', 'set', 'identifier:email', 'PII', 'contact');
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ attribute: 'identifier:email', labels: ['contact', 'pii'] });
    const badAttribute = await sluice('labels', 'set', 'not an attribute', 'pii');
    expect(badAttribute.code).toBe(1);
    expect(badAttribute.stderr).toMatch(/^error: invalid attribute at attribute: /);
    expect((await sluice('labels', 'list')).stdout).toContain('contact, pii');

    const created = await sluice(
      'policies',
      'create',
      '--name',
      'No PII to ads',
      '--labels',
      'pii',
      '--actions',
      'advertising,export',
    );
    expect(created.code, created.stderr).toBe(0);
    const policy = JSON.parse(created.stdout) as { id: string };
    expect(policy).toMatchObject({
      labels: ['pii'],
      marketingActions: ['advertising', 'export'],
      enabled: true,
    });
    const badLabel = await sluice(
      'policies',
      'create',
      '--name',
      'x',
      '--labels',
      'Not A Label',
      '--actions',
      'ads',
    );
    expect(badLabel.code).toBe(1);
    expect(badLabel.stderr).toMatch(/^error: invalid policy at labels\.0: /);
    const disabled = await sluice('policies', 'update', policy.id, '--disable');
    expect(JSON.parse(disabled.stdout)).toMatchObject({ name: 'No PII to ads', enabled: false });
    expect((await sluice('policies', 'list')).stdout).toContain('No PII to ads');
    expect((await sluice('policies', 'delete', policy.id)).code).toBe(0);
  });

  it('says what to do when another process holds the DuckDB store', async () => {
    const store = await openStore({ dataDir });
    try {
      const run = await sluice('sources', 'list');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: the DuckDB store .* is open in another process .*management API/m);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await store.close();
    }
  });
});
