import type { MatchingRuleSet, MatchingRuleSetInput } from '../../core/index.js';
import type { MatchRecord } from './match-record.js';
import { parseRuleSet } from './parse-rule-set.js';
import { RecordColumns } from './record-columns.js';

/**
 * Records encoded once for a rule set's fields, to pass to both `trainModel` and `matchRecords`
 * (encoding a million records takes seconds).
 */
export class PreparedRecords {
  constructor(
    readonly records: readonly MatchRecord[],
    readonly columns: RecordColumns,
    readonly encoding: string,
  ) {}
}

/** Encodes records for the fields a rule set compares, once for both training and matching. */
export function prepareRecords(
  records: readonly MatchRecord[],
  ruleSetInput: MatchingRuleSetInput | MatchingRuleSet,
): PreparedRecords {
  const ruleSet = parseRuleSet(ruleSetInput);
  const swaps = ruleSet.fields.flatMap((f) =>
    f.swapWith === undefined ? [] : [[f.name, f.swapWith] as const],
  );
  const columns = RecordColumns.fromRecords(
    records,
    ruleSet.fields.map((f) => f.name),
    swaps,
  );
  return new PreparedRecords(records, columns, encodingOf(ruleSet));
}

/** The encoded records for `ruleSet`: those already prepared for the same fields, else freshly encoded. */
export function encodeRecords(
  input: readonly MatchRecord[] | PreparedRecords,
  ruleSet: MatchingRuleSet,
): PreparedRecords {
  if (input instanceof PreparedRecords && input.encoding === encodingOf(ruleSet)) return input;
  return prepareRecords(input instanceof PreparedRecords ? input.records : input, ruleSet);
}

function encodingOf(ruleSet: MatchingRuleSet): string {
  return JSON.stringify(ruleSet.fields.map((f) => [f.name, f.swapWith ?? null]));
}
