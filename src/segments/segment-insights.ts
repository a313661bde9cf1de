import {
  type Condition,
  type EvaluationMode,
  NotFoundError,
  type SegmentPreview,
  UserError,
} from '../core/index.js';
import type { Store } from '../store/index.js';
import { segmentCompiler } from './segment-compiler.js';
import { planSegments } from './segment-plan.js';
import { type ReferenceCatalog, referenceIssues } from './segment-references.js';

/** What a definition would select, before it is saved. */
export interface PreviewResult {
  count: number;
  /** Member profile ids, a stable pseudo-random pick. */
  sample: string[];
  value?: { name: string; sum: number; average: number | null; profilesWithValue: number };
  overlaps: { segmentId: string; name: string; count: number; share: number }[];
  mode: EvaluationMode;
  modeReason?: string;
  seconds: number;
}

/**
 * Counts an unsaved definition at `now`, samples its members, totals a value over them and
 * measures its overlap with saved segments, in two statements over the same compiled SQL.
 */
export async function previewSegment(
  store: Store,
  catalog: ReferenceCatalog & { segmentName(id: string): string | undefined },
  request: SegmentPreview,
  now: Date,
  modeOf: (c: Condition) => { mode: EvaluationMode; modeReason?: string | undefined },
): Promise<PreviewResult> {
  const started = performance.now();
  const issues = await referenceIssues(request.condition, undefined, catalog);
  for (const [i, id] of request.overlapWith.entries()) {
    if (!catalog.segment(id))
      issues.push({ code: 'unknown_reference', path: ['overlapWith', i], message: `no segment ${id}` });
  }
  if (request.value) {
    const v = request.value;
    const exists =
      'trait' in v ? await catalog.traitExists(v.trait) : await catalog.attributeExists(v.attribute);
    if (!exists)
      issues.push({
        code: 'unknown_reference',
        path: ['value'],
        message: `no value named ${'trait' in v ? v.trait : v.attribute}`,
      });
  }
  if (issues.length > 0) {
    throw new UserError(
      'invalid_input',
      `invalid preview at ${issues[0]!.path.join('.')}: ${issues[0]!.message}`,
      issues,
    );
  }
  const conditionOf = (id: string): Condition | undefined => catalog.segment(id);
  const plan = planSegments([{ id: 'preview', condition: request.condition }], conditionOf);
  const d = store.db.dialect;
  const { sql, params } = segmentCompiler(d).compile(plan, now);
  const compiledParams = params.slice();
  const p = (v: string | number) => {
    params.push(v);
    return `$${params.length}`;
  };
  let valueJoin = '';
  let valueColumns = '';
  if (request.value) {
    const v = request.value;
    const table = 'trait' in v ? 'profile_traits' : 'profile_attributes';
    valueJoin = `LEFT JOIN ${table} mv ON mv.profile_id = r.profile_id AND mv.name = ${p('trait' in v ? v.trait : v.attribute)}`;
    const n = d.toNumber(d.jsonScalar('mv.value'));
    valueColumns = `, coalesce(sum(${n}), 0) AS value_sum, avg(${n}) AS value_avg, count(${n}) AS value_n`;
  }
  const overlaps = request.overlapWith.map(
    (id, i) =>
      `, count(*) FILTER (WHERE EXISTS (SELECT 1 FROM segment_members m WHERE m.segment_id = ${p(id)} AND m.profile_id = r.profile_id)) AS o${i}`,
  );
  // The overlaps read the members table, which may lag the ledger.
  if (overlaps.length > 0) await store.memberships.applyToMembers();
  const summarySql = `WITH result AS MATERIALIZED (${sql})
    SELECT count(*) AS n${valueColumns}${overlaps.join('')} FROM result r ${valueJoin} WHERE r.s0`;
  const [summary, sample] = await Promise.all([
    store.db.query(summarySql, params),
    request.sample === 0
      ? Promise.resolve([])
      : store.db.query<{ profile_id: string }>(
          `WITH result AS (${sql}) SELECT profile_id FROM result WHERE s0 ORDER BY md5(profile_id) LIMIT ${request.sample}`,
          compiledParams,
        ),
  ]);
  const row = summary[0] ?? {};
  const count = Number(row.n ?? 0);
  const mode = modeOf(request.condition);
  return {
    count,
    sample: sample.map((r) => r.profile_id),
    ...(request.value
      ? {
          value: {
            name: 'trait' in request.value ? request.value.trait : request.value.attribute,
            sum: Number(row.value_sum ?? 0),
            average: row.value_avg === null || row.value_avg === undefined ? null : Number(row.value_avg),
            profilesWithValue: Number(row.value_n ?? 0),
          },
        }
      : {}),
    overlaps: request.overlapWith.map((segmentId, i) => {
      const n = Number(row[`o${i}`] ?? 0);
      const name = catalog.segmentName(segmentId);
      if (name === undefined) throw new NotFoundError('segment', segmentId);
      return { segmentId, name, count: n, share: count === 0 ? 0 : n / count };
    }),
    mode: mode.mode,
    ...(mode.modeReason ? { modeReason: mode.modeReason } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}
