import { type CreatePolicy, newId, type Policy, type UpdatePolicy } from '../../core/index.js';
import type { Store } from '../../store/index.js';

/** Data-usage policies: created, changed and deleted through the API and the CLI. */
export class PolicyService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

  list(): Promise<Policy[]> {
    return this.store.policies.list();
  }

  get(id: string): Promise<Policy> {
    return this.store.policies.get(id);
  }

  async create(input: CreatePolicy): Promise<Policy> {
    const at = this.now();
    const policy: Policy = {
      id: newId('pol'),
      name: input.name,
      description: input.description,
      labels: [...new Set(input.labels)],
      marketingActions: [...new Set(input.marketingActions)],
      enabled: input.enabled,
      createdAt: at,
      updatedAt: at,
    };
    await this.store.policies.put(policy);
    return policy;
  }

  /** Changes what `input` names; `description: null` removes the description. */
  async update(id: string, input: UpdatePolicy): Promise<Policy> {
    const current = await this.store.policies.get(id);
    const policy: Policy = {
      ...current,
      name: input.name ?? current.name,
      description: input.description === undefined ? current.description : (input.description ?? undefined),
      labels: input.labels ? [...new Set(input.labels)] : current.labels,
      marketingActions: input.marketingActions
        ? [...new Set(input.marketingActions)]
        : current.marketingActions,
      enabled: input.enabled ?? current.enabled,
      updatedAt: this.now(),
    };
    await this.store.policies.put(policy);
    return policy;
  }

  delete(id: string): Promise<void> {
    return this.store.policies.delete(id);
  }
}
