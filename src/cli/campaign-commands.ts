import type { Command } from 'commander';
import { z } from 'zod';
import { CampaignService, ContactPolicyService, listActivations } from '../activation/index.js';
import { MEMBER_OUTCOMES, parseOrThrow } from '../core/index.js';
import { Scheduler } from '../scheduler/index.js';
import { deliveryOn, jsonFrom } from './destination-commands.js';
import { withStoreOptions } from './options.js';
import { withSegments } from './segment-commands.js';
import { withStore } from './source-commands.js';

const log = { info: (m: string) => console.error(m), error: (m: string) => console.error(m) };
const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

const MembersQuerySchema = z.object({
  outcome: z.enum(MEMBER_OUTCOMES).optional(),
  limit: z.coerce.number().int().min(1).max(10_000),
});

/**
 * Opens campaigns over the store for one command. Runs happen in the server (its scheduler); the
 * command only writes definitions, statuses and schedules.
 */
function withCampaigns<T>(opts: Record<string, unknown>, fn: (campaigns: CampaignService) => Promise<T>) {
  return withSegments(opts, async (segments, store) =>
    fn(
      new CampaignService(store, segments, await deliveryOn(store, opts), new Scheduler(store, { log }), {
        log,
        contactPolicy: new ContactPolicyService(store),
      }),
    ),
  );
}

export function registerCampaignCommands(program: Command): void {
  const campaigns = program
    .command('campaigns')
    .description(
      'Campaigns: segments sent to destinations once, at a time or on a recurrence, with treatment and control groups',
    );
  withStoreOptions(campaigns.command('list'))
    .description('List campaigns with their status')
    .action(async (opts) =>
      console.table(
        await withCampaigns(opts, async (c) =>
          (await c.list()).map((x) => ({
            id: x.id,
            name: x.name,
            status: x.status,
            schedule: x.schedule.kind,
          })),
        ),
      ),
    );
  withStoreOptions(campaigns.command('show <id>'))
    .description('A campaign with every problem that would stop its launch')
    .action(async (id: string, opts) =>
      print(
        await withCampaigns(opts, async (c) => {
          const campaign = await c.get(id);
          return { ...campaign, problems: await c.problems(campaign) };
        }),
      ),
    );
  for (const verb of ['create', 'update'] as const) {
    withStoreOptions(campaigns.command(verb === 'create' ? 'create' : 'update <id>'))
      .description(
        verb === 'create' ? 'Save a campaign draft from JSON' : 'Replace a campaign’s definition from JSON',
      )
      .option('--file <path>', 'the campaign as a JSON file')
      .option('--json <json>', 'the campaign as JSON text')
      .action(async (...args: unknown[]) => {
        const id = verb === 'update' ? (args[0] as string) : undefined;
        const opts = args[verb === 'update' ? 1 : 0] as Record<string, string>;
        const input = await jsonFrom(opts);
        print(await withCampaigns(opts, (c) => (id === undefined ? c.create(input) : c.update(id, input))));
      });
  }
  for (const verb of ['launch', 'pause', 'resume', 'cancel'] as const) {
    withStoreOptions(campaigns.command(`${verb} <id>`))
      .description(`${verb[0]!.toUpperCase()}${verb.slice(1)} a campaign`)
      .action(async (id: string, opts) => print(await withCampaigns(opts, (c) => c[verb](id))));
  }
  withStoreOptions(campaigns.command('delete <id>'))
    .description('Delete a campaign and its run records')
    .action(async (id: string, opts) => {
      await withCampaigns(opts, (c) => c.delete(id));
      console.log(`deleted ${id}`);
    });
  withStoreOptions(campaigns.command('members <id> <runId>'))
    .description('What a run did with each profile')
    .option('--outcome <outcome>', 'sent, control, suppressed, held or unmatched')
    .option('--limit <n>', 'rows', '1000')
    .action(async (id: string, runId: string, opts) =>
      print(
        await withCampaigns(opts, async (c) => {
          const { outcome, limit } = parseOrThrow(MembersQuerySchema, opts, 'options');
          await c.run(id, runId);
          return c.members(runId, { outcome, limit });
        }),
      ),
    );
  withStoreOptions(campaigns.command('runs <id>'))
    .description('A campaign’s runs, newest first')
    .action(async (id: string, opts) =>
      console.table(
        await withCampaigns(opts, async (c) =>
          (await c.runs(id)).map((r) => ({
            id: r.id,
            status: r.status,
            dueAt: r.dueAt.toISOString(),
            newlyQualified: (r.counts as { newlyQualified?: number } | undefined)?.newlyQualified,
            error: r.error,
          })),
        ),
      ),
    );
  withStoreOptions(campaigns.command('run <id> <runId>'))
    .description('A run: counts per sub-audience, group and destination, and its deliveries')
    .action(async (id: string, runId: string, opts) =>
      print(await withCampaigns(opts, (c) => c.run(id, runId))),
    );

  withStoreOptions(
    program.command('activations').description('Campaigns, audience syncs and orchestrations in one list'),
  )
    .option('--kind <kind>', 'campaign, sync or orchestration')
    .action(async (opts) =>
      console.table(
        (await withStore(opts, listActivations))
          .filter((a) => !opts.kind || a.kind === opts.kind)
          .map((a) => ({
            kind: a.kind,
            name: a.name,
            status: a.status,
            lastRunAt: a.lastRunAt?.toISOString(),
            nextRunAt: a.nextRunAt?.toISOString(),
            ...a.counts,
          })),
      ),
    );

  const policy = program.command('contact-policy').description('Frequency caps per channel and quiet hours');
  withStoreOptions(policy.command('show'))
    .description('The contact policy')
    .action(async (opts) => print(await withStore(opts, (store) => new ContactPolicyService(store).get())));
  withStoreOptions(policy.command('set'))
    .description('Replace the contact policy from JSON: { "frequencyCaps": [...], "quietHours": {...} }')
    .option('--file <path>', 'the policy as a JSON file')
    .option('--json <json>', 'the policy as JSON text')
    .action(async (opts) => {
      const input = await jsonFrom(opts);
      print(await withStore(opts, (store) => new ContactPolicyService(store).set(input)));
    });
}
