import {
  type MatchingRuleSet,
  type MatchingRuleSetInput,
  MatchingRuleSetSchema,
  parseOrThrow,
} from '../../core/index.js';

/** Reads a rule set (validated, defaults applied) or throws a UserError listing every problem. */
export function parseRuleSet(input: MatchingRuleSetInput | MatchingRuleSet): MatchingRuleSet {
  return parseOrThrow(MatchingRuleSetSchema, input, 'matching rule set');
}
