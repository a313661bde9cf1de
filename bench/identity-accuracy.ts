import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import {
  type MatchRecord,
  matchRecords,
  PERSON_RULE_SET,
  pairwiseAccuracy,
  trainModel,
} from '../src/identity/probabilistic/index.js';
import { report } from './support-server.js';

const DATASETS = ['dataset1', 'dataset2', 'dataset3'] as const;

/** Reads a FEBRL file: records without their labels, and the person each rec_id belongs to. */
export function readFebrl(name: string): { records: MatchRecord[]; entityOf: Map<string, string> } {
  const text = readFileSync(new URL(`../../shared/data/febrl/${name}.csv`, import.meta.url), 'utf8');
  const rows = parse(text, { columns: true, trim: true, skip_empty_lines: true }) as Record<string, string>[];
  const records: MatchRecord[] = [];
  const entityOf = new Map<string, string>();
  for (const { rec_id: id, ...fields } of rows) {
    if (id === undefined) throw new Error(`${name}.csv has no rec_id column`);
    records.push({ id, fields });
    entityOf.set(id, id.split('-')[1]!);
  }
  return { records, entityOf };
}

/**
 * Probabilistic matching on the three FEBRL data sets, trained without labels; pairwise
 * precision, recall and F1 of the predicted links against every pair of records of the same
 * person (and, for reference, after merging the links transitively as the identity graph does).
 */
export async function run(): Promise<void> {
  const metrics: Record<string, number> = {};
  const targets: Record<string, number> = {};
  for (const name of DATASETS) {
    const { records, entityOf } = readFebrl(name);
    const started = performance.now();
    const model = trainModel(records, PERSON_RULE_SET);
    const result = matchRecords(records, model);
    const seconds = (performance.now() - started) / 1000;
    const links = pairwiseAccuracy(entityOf, result.matches);
    const merged = pairwiseAccuracy(entityOf, result.matches, { closure: true });
    console.log(
      `${name}: ${records.length} records, ${result.stats.candidatePairs} candidate pairs, ` +
        `${result.matches.length} matches, ${result.review.length} for review, ${links.truePairs} true pairs, ${seconds.toFixed(2)} s`,
    );
    console.log(
      `  links:  precision ${links.precision.toFixed(4)}  recall ${links.recall.toFixed(4)}  F1 ${links.f1.toFixed(4)}`,
    );
    console.log(
      `  merged: precision ${merged.precision.toFixed(4)}  recall ${merged.recall.toFixed(4)}  F1 ${merged.f1.toFixed(4)}`,
    );
    if (process.env.BENCH_VERBOSE) {
      console.log(`  prior ${model.prior.toExponential(3)}`);
      for (const s of model.training.sessions) console.log(`  session ${s.rule}: ${JSON.stringify(s)}`);
      for (const f of model.fields) {
        console.log(
          `  ${f.name}: ${f.levels.map((l) => `${l.label} m=${l.m.toFixed(3)} u=${l.u.toExponential(2)} w=${l.weight.toFixed(2)}`).join(' | ')}`,
        );
      }
    }
    metrics[`precision_${name}`] = round(links.precision);
    metrics[`recall_${name}`] = round(links.recall);
    metrics[`f1_${name}`] = round(links.f1);
    metrics[`f1_merged_${name}`] = round(merged.f1);
    targets[`f1_${name}`] = 0.97;
  }
  report('identity-accuracy', metrics, targets);
}

function round(x: number): number {
  return Number(x.toFixed(4));
}
