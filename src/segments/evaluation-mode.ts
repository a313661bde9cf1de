import {
  assertNever,
  type Condition,
  type EvaluationMode,
  POPULATION_AGGREGATES,
  type PropertyFilter,
  type TraitAggregate,
} from '../core/index.js';

/**
 * Whether a segment can be kept current as events arrive, and if not, why. `traitAggregate` tells
 * how a computed trait is computed; `conditionOf` resolves referenced segments.
 */
export function evaluationMode(
  condition: Condition,
  conditionOf: (segmentId: string) => Condition | undefined,
  traitAggregate: (name: string) => TraitAggregate | undefined,
): { mode: EvaluationMode; reason?: string } {
  const reasons: string[] = [];
  const seen = new Set<string>();
  const timeTest = (where: readonly PropertyFilter[] | undefined, what: string) => {
    const f = where?.find((x) => x.test.operator === 'within_last' || x.test.operator === 'within_next');
    if (f)
      reasons.push(
        `the time test on the ${what} property ${f.property} changes with time for every past event`,
      );
  };
  const visit = (c: Condition): void => {
    switch (c.kind) {
      case 'all':
      case 'any':
        for (const x of c.conditions) visit(x);
        return;
      case 'not':
        visit(c.condition);
        return;
      case 'attribute':
        return;
      case 'trait': {
        const aggregate = traitAggregate(c.trait);
        if (aggregate && POPULATION_AGGREGATES.includes(aggregate))
          reasons.push(`the computed trait ${c.trait} (${aggregate}) ranks each profile against all others`);
        return;
      }
      case 'event':
        timeTest(c.where, c.event);
        return;
      case 'sequence':
        timeTest(c.first.where, c.first.event);
        timeTest(c.next.where, c.next.event);
        return;
      case 'segment': {
        if (seen.has(c.segment)) return;
        seen.add(c.segment);
        const referenced = conditionOf(c.segment);
        if (referenced) visit(referenced);
        return;
      }
      case 'rank':
        reasons.push(
          `a ranking (${c.direction} ${c.percent !== undefined ? `${c.percent}%` : c.count}) compares each profile with all others`,
        );
        return;
      default:
        assertNever(c);
    }
  };
  visit(condition);
  if (reasons.length === 0) return { mode: 'streaming' };
  return { mode: 'batch', reason: `batch only: ${[...new Set(reasons)].join('; ')}` };
}
