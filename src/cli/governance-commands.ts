import type { Command } from 'commander';
import { PolicyService } from '../activation/index.js';
import {
  CreatePolicySchema,
  LabelledAttributeSchema,
  parseOrThrow,
  SetDataLabelsSchema,
  UpdatePolicySchema,
} from '../core/index.js';
import { withStoreOptions } from './options.js';
import { withStore } from './source-commands.js';

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));
/** `pii,sensitive` → `['pii', 'sensitive']`. */
const list = (text: string | undefined) =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');

/** `sluice labels ...`: data-usage labels on attributes, computed traits and identifier namespaces. */
export function registerLabelCommands(program: Command): void {
  const labels = program
    .command('labels')
    .description(
      'Data-usage labels on attributes (`email`), computed traits (`trait:ltv`), identifiers (`identifier:email`)',
    );
  withStoreOptions(labels.command('list'))
    .description('Every labelled attribute with its labels')
    .action(async (opts) => {
      const all = await withStore(opts, (store) => store.labels.list());
      console.table(all.map((a) => ({ attribute: a.attribute, labels: a.labels.join(', ') })));
    });
  withStoreOptions(labels.command('set <attribute> [labels...]'))
    .description('Replace the labels of an attribute (none: remove them), e.g. `sluice labels set email pii`')
    .action(async (attribute: string, names: string[], opts) => {
      const name = parseOrThrow(LabelledAttributeSchema, attribute, 'attribute', ['attribute']);
      const { labels: parsed } = parseOrThrow(SetDataLabelsSchema, { labels: names }, 'labels');
      await withStore(opts, (store) => store.labels.set(name, parsed, new Date()));
      print({ attribute: name, labels: parsed });
    });
}

/** `sluice policies ...`: which labels may not go to which marketing actions. */
export function registerPolicyCommands(program: Command): void {
  const policies = program
    .command('policies')
    .description(
      'Data-usage policies: labelled attributes that may not go to destinations with some marketing actions',
    );
  withStoreOptions(policies.command('list'))
    .description('List policies')
    .action(async (opts) => {
      const all = await withStore(opts, (store) => new PolicyService(store).list());
      console.table(
        all.map((p) => ({
          id: p.id,
          name: p.name,
          labels: p.labels.join(', '),
          marketingActions: p.marketingActions.join(', '),
          enabled: p.enabled,
        })),
      );
    });
  withStoreOptions(policies.command('show <id>'))
    .description('A policy')
    .action(async (id: string, opts) =>
      print(await withStore(opts, (store) => new PolicyService(store).get(id))),
    );
  withStoreOptions(policies.command('create'))
    .description('Create a policy, e.g. --name "No PII to ads" --labels pii --actions advertising')
    .requiredOption('--name <name>')
    .requiredOption('--labels <labels>', 'comma-separated labels it restricts')
    .requiredOption('--actions <actions>', 'comma-separated marketing actions it forbids them for')
    .option('--description <text>')
    .option('--disabled', 'create it disabled')
    .action(async (opts) => {
      const input = parseOrThrow(
        CreatePolicySchema,
        {
          name: opts.name,
          description: opts.description,
          labels: list(opts.labels),
          marketingActions: list(opts.actions),
          enabled: !opts.disabled,
        },
        'policy',
      );
      print(await withStore(opts, (store) => new PolicyService(store).create(input)));
    });
  withStoreOptions(policies.command('update <id>'))
    .description('Change a policy (what is not given stays)')
    .option('--name <name>')
    .option('--labels <labels>', 'comma-separated labels')
    .option('--actions <actions>', 'comma-separated marketing actions')
    .option('--description <text>')
    .option('--enable', 'enable it')
    .option('--disable', 'disable it')
    .action(async (id: string, opts) => {
      const input = parseOrThrow(
        UpdatePolicySchema,
        {
          name: opts.name,
          description: opts.description,
          labels: list(opts.labels),
          marketingActions: list(opts.actions),
          enabled: opts.enable ? true : opts.disable ? false : undefined,
        },
        'policy',
      );
      print(await withStore(opts, (store) => new PolicyService(store).update(id, input)));
    });
  withStoreOptions(policies.command('delete <id>'))
    .description('Delete a policy')
    .action(async (id: string, opts) => {
      await withStore(opts, (store) => new PolicyService(store).delete(id));
      console.log(`deleted ${id}`);
    });
}
