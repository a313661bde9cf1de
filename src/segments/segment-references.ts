import { assertNever, type Condition, type Issue, type Metric } from '../core/index.js';

/** What a segment may refer to. */
export interface ReferenceCatalog {
  attributeExists(name: string): Promise<boolean>;
  traitExists(name: string): Promise<boolean>;
  eventExists(name: string): Promise<boolean>;
  /** The condition of a saved segment, undefined when there is none. */
  segment(id: string): Condition | undefined;
}

/**
 * Every reference in `condition` to an attribute, computed trait, event or segment that does not
 * exist, and every cycle through `selfId`, as issues pointing at the field.
 */
export async function referenceIssues(
  condition: Condition,
  selfId: string | undefined,
  catalog: ReferenceCatalog,
  prefix: (string | number)[] = ['condition'],
): Promise<Issue[]> {
  // One slot per reference in document order, so that issues come back in that order.
  const issues: (Issue | undefined)[] = [];
  const checks: Promise<void>[] = [];
  const check = (exists: Promise<boolean>, path: (string | number)[], message: string) => {
    const slot = issues.push(undefined) - 1;
    checks.push(
      exists.then((ok) => {
        if (!ok) issues[slot] = { code: 'unknown_reference', path, message };
      }),
    );
  };
  const event = (name: string, path: (string | number)[]) =>
    check(catalog.eventExists(name), path, `no event named ${JSON.stringify(name)} has been received`);
  const metric = (m: Metric, path: (string | number)[]) => {
    if (m.kind === 'event') event(m.event, [...path, 'event']);
    else if (m.kind === 'attribute')
      check(
        catalog.attributeExists(m.attribute),
        [...path, 'attribute'],
        `no profile has an attribute ${m.attribute}`,
      );
    else check(catalog.traitExists(m.trait), [...path, 'trait'], `no computed trait named ${m.trait}`);
  };
  const visit = (c: Condition, path: (string | number)[]): void => {
    switch (c.kind) {
      case 'all':
      case 'any':
        for (const [i, x] of c.conditions.entries()) visit(x, [...path, 'conditions', i]);
        return;
      case 'not':
        visit(c.condition, [...path, 'condition']);
        return;
      case 'attribute':
        check(
          catalog.attributeExists(c.attribute),
          [...path, 'attribute'],
          `no profile has an attribute ${c.attribute}`,
        );
        return;
      case 'trait':
        check(catalog.traitExists(c.trait), [...path, 'trait'], `no computed trait named ${c.trait}`);
        return;
      case 'event':
        event(c.event, [...path, 'event']);
        return;
      case 'sequence':
        event(c.first.event, [...path, 'first', 'event']);
        event(c.next.event, [...path, 'next', 'event']);
        return;
      case 'segment': {
        if (!catalog.segment(c.segment)) {
          issues.push({
            code: 'unknown_reference',
            path: [...path, 'segment'],
            message: `no segment ${c.segment}`,
          });
        } else if (selfId !== undefined && reaches(c.segment, selfId, catalog)) {
          issues.push({
            code: 'cycle',
            path: [...path, 'segment'],
            message: `segment ${c.segment} refers back to this segment: segments may not refer to each other in a cycle`,
          });
        }
        return;
      }
      case 'rank':
        metric(c.metric, [...path, 'metric']);
        return;
      default:
        assertNever(c);
    }
  };
  visit(condition, prefix);
  await Promise.all(checks);
  return issues.filter((i) => i !== undefined);
}

/** Whether segment `from` refers, directly or through others, to segment `target`. */
function reaches(from: string, target: string, catalog: ReferenceCatalog): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    const c = catalog.segment(id);
    if (c) stack.push(...referencedSegments(c));
  }
  return false;
}

/** The segments a condition refers to directly. */
export function referencedSegments(c: Condition): string[] {
  switch (c.kind) {
    case 'all':
    case 'any':
      return c.conditions.flatMap(referencedSegments);
    case 'not':
      return referencedSegments(c.condition);
    case 'segment':
      return [c.segment];
    default:
      return [];
  }
}
