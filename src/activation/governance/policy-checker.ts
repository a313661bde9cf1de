import { type Issue, type PolicyTarget, policyViolations, UserError } from '../../core/index.js';
import type { Store } from '../../store/index.js';

/**
 * Data-usage policies as every activation checks them, when it is saved and again before each
 * send: a field whose source carries a label that an enabled policy forbids for one of the
 * destination's marketing actions may not go there.
 */
export class PolicyChecker {
  constructor(private readonly store: Store) {}

  /**
   * The policy violations of sending `fields` (destination field → source: `profile_id`,
   * `<attribute>`, `trait:<name>`, `identifier:<namespace>`) to a destination (an id, or its name
   * and marketing actions), each at `path` plus the field:
   *
   * `{ code: 'policy_violation', path: ['fields', 'em'], message: 'identifier:email (label pii) may not go to Meta ads (advertising): policy No PII to ads' }`
   */
  async checkFields(
    destination: string | PolicyTarget,
    fields: Readonly<Record<string, string>>,
    path: readonly (string | number)[],
  ): Promise<Issue[]> {
    const target =
      typeof destination === 'string' ? await this.store.destinations.get(destination) : destination;
    if (target.marketingActions.length === 0) return [];
    const [labels, policies] = await Promise.all([
      this.store.labels.of([...new Set(Object.values(fields))]),
      this.store.policies.list(),
    ]);
    return policyViolations(target, fields, labels, policies, path);
  }

  /** Throws a UserError listing every violation (`what` names the activation), when there is one. */
  async assertAllowed(
    destination: string | PolicyTarget,
    fields: Readonly<Record<string, string>>,
    path: readonly (string | number)[],
    what: string,
  ): Promise<void> {
    const issues = await this.checkFields(destination, fields, path);
    if (issues.length > 0) throw policyError(what, issues);
  }
}

/** The UserError of some policy violations: its message is the first one's. */
export function policyError(what: string, issues: Issue[]): UserError {
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new UserError(
    'policy_violation',
    `${what} breaks a data-usage policy: ${issues[0]!.message}${more}`,
    issues,
  );
}
