import { EXACT_LEVEL, type FieldComparator } from './comparison-levels.js';
import type { FieldWeight } from './match-record.js';

/**
 * The `{ field, level, weight }` entries of kept pairs, shared between pairs (frozen): hundreds of
 * thousands of matches then cost one small array each rather than a dozen objects.
 */
export class FieldWeights {
  private readonly shared = new Map<number, FieldWeight>();

  constructor(
    private readonly comparators: readonly FieldComparator[],
    private readonly weightOf: (k: number, level: number, left: number) => number,
    private readonly valueCode: (k: number, left: number) => number,
  ) {}

  get(k: number, level: number, left: number): FieldWeight {
    const comparator = this.comparators[k]!;
    // An exact agreement may weigh by its value (term frequencies): one entry per value then.
    const variant = level === EXACT_LEVEL ? this.valueCode(k, left) + 1 : 0;
    const key = (variant * comparator.labels.length + level) * this.comparators.length + k;
    let entry = this.shared.get(key);
    if (entry === undefined) {
      entry = Object.freeze({
        field: comparator.field,
        level: comparator.labels[level]!,
        weight: this.weightOf(k, level, left),
      });
      this.shared.set(key, entry);
    }
    return entry;
  }
}
