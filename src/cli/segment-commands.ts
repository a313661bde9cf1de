import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UserError } from '../core/index.js';
import { IdentityService } from '../identity/index.js';
import { SegmentService } from '../segments/index.js';
import type { Store } from '../store/index.js';
import { withStoreOptions } from './options.js';
import { withStore } from './source-commands.js';

/**
 * Opens the segments of the store for one command, after stitching what is not yet stitched (a
 * process that is not the identity writer, beside a server on PostgreSQL, leaves that to it).
 */
export function withSegments<T>(
  opts: Record<string, unknown>,
  fn: (segments: SegmentService, store: Store) => Promise<T>,
) {
  return withStore(opts, async (store) => {
    const identity = await IdentityService.open(store);
    try {
      await identity.catchUp();
      const segments = await SegmentService.open(store, undefined, {
        refreshScores: () => identity.refreshScores(),
      });
      try {
        return await fn(segments, store);
      } finally {
        await segments.close();
      }
    } finally {
      await identity.close();
    }
  });
}

/** A segment definition from `--file` (JSON) or `--json`. */
async function definitionFrom(opts: { file?: string; json?: string }): Promise<unknown> {
  const text = opts.file !== undefined ? await readFile(opts.file, 'utf8') : opts.json;
  if (text === undefined)
    throw new UserError('missing_definition', 'give the definition with --file <path> or --json <json>');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UserError('invalid_json', `the definition is not valid JSON: ${(err as Error).message}`);
  }
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

export function registerSegmentCommands(program: Command): void {
  const segments = program
    .command('segments')
    .description('Segments: define them, evaluate them, read their members and their ledger');
  withStoreOptions(segments.command('list'))
    .description('List segments with mode, sentence and member count')
    .action(async (opts) => {
      const list = await withSegments(opts, async (s) => {
        const sizes = await s.sizes();
        return s.list().map((x) => ({
          id: x.id,
          name: x.name,
          mode: x.mode,
          members: sizes.get(x.id) ?? 0,
          sentence: x.sentence,
        }));
      });
      print(list);
    });
  withStoreOptions(segments.command('show <id>'))
    .description('A segment: definition, sentence, mode (and why), member count')
    .action(async (id: string, opts) => {
      print(
        await withSegments(opts, async (s, store) => ({
          ...s.get(id),
          members: await store.memberships.count(id),
        })),
      );
    });
  withStoreOptions(segments.command('create'))
    .description('Create a segment from a JSON definition ({ "name", "condition" }) and evaluate it')
    .option('--file <path>', 'the definition as a JSON file')
    .option('--json <json>', 'the definition inline')
    .action(async (opts) => {
      const definition = await definitionFrom(opts);
      print(
        await withSegments(opts, async (s) => {
          const created = await s.create(definition);
          const result = await s.evaluate({ segmentIds: [created.id] });
          return { ...created, evaluation: result };
        }),
      );
    });
  withStoreOptions(segments.command('update <id>'))
    .description('Replace a segment’s definition and evaluate it')
    .option('--file <path>', 'the definition as a JSON file')
    .option('--json <json>', 'the definition inline')
    .action(async (id: string, opts) => {
      const definition = await definitionFrom(opts);
      print(
        await withSegments(opts, async (s) => {
          const updated = await s.update(id, definition);
          return { ...updated, evaluation: await s.evaluate({ segmentIds: [id] }) };
        }),
      );
    });
  withStoreOptions(segments.command('delete <id>'))
    .description('Delete a segment (its ledger is kept)')
    .action(async (id: string, opts) => {
      await withSegments(opts, (s) => s.delete(id));
      console.log(`Deleted ${id}`);
    });
  withStoreOptions(segments.command('evaluate [ids...]'))
    .description('Evaluate segments in batch now (all when none is named) and record every entry and exit')
    .action(async (ids: string[], opts) => {
      print(await withSegments(opts, (s) => s.evaluate(ids.length > 0 ? { segmentIds: ids } : {})));
    });
  withStoreOptions(segments.command('preview'))
    .description(
      'Count an unsaved definition ({ "condition", "sample", "value", "overlapWith" }) without saving it',
    )
    .option('--file <path>', 'the preview request as a JSON file')
    .option('--json <json>', 'the preview request inline')
    .action(async (opts) => {
      const request = await definitionFrom(opts);
      print(await withSegments(opts, (s) => s.preview(request)));
    });
  withStoreOptions(segments.command('members <id>'))
    .description('The current members of a segment, with since when')
    .option('--limit <n>', 'how many', '100')
    .option('--after <profileId>', 'the last profile id of the previous page')
    .action(async (id: string, opts) => {
      print(
        await withSegments(opts, async (s, store) => {
          s.get(id);
          return store.memberships.members(id, Number(opts.limit), opts.after);
        }),
      );
    });
  withStoreOptions(segments.command('changes <id>'))
    .description('The membership ledger of a segment after a change seq')
    .option('--since <seq>', 'the last change seq already read', '0')
    .option('--limit <n>', 'how many', '100')
    .action(async (id: string, opts) => {
      print(
        await withSegments(opts, async (s, store) => {
          s.get(id);
          return store.memberships.changes(id, Number(opts.since), Number(opts.limit));
        }),
      );
    });
}
