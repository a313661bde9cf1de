import type { FieldComparator } from './comparison-levels.js';

/**
 * A pair's levels on every field packed into one number (mixed radix), so EM works on a histogram
 * of the few distinct vectors instead of on millions of pairs.
 */
export class ComparisonVectors {
  private readonly places: number[] = [];

  constructor(readonly comparators: readonly FieldComparator[]) {
    let place = 1;
    for (const c of comparators) {
      this.places.push(place);
      place *= c.labels.length;
    }
    if (place > Number.MAX_SAFE_INTEGER) throw new Error('too many comparison levels to pack');
  }

  /** The packed comparison vector of records `left` and `right`. */
  vector(left: number, right: number): number {
    let v = 0;
    for (let k = 0; k < this.comparators.length; k++) {
      v += this.comparators[k]!.level(left, right) * this.places[k]!;
    }
    return v;
  }

  /** The level of field `k` in a packed vector. */
  levelOf(vector: number, k: number): number {
    return Math.floor(vector / this.places[k]!) % this.comparators[k]!.labels.length;
  }
}

/** Counts of packed comparison vectors, with their levels unpacked once (`levels[p * fields + k]`). */
export interface VectorHistogram {
  readonly fields: number;
  readonly counts: Float64Array;
  readonly levels: Uint8Array;
}

/** Counts vectors as they are added; `histogram()` freezes them for EM. */
export class VectorCounter {
  private readonly counts = new Map<number, number>();

  constructor(private readonly vectors: ComparisonVectors) {}

  addPair(left: number, right: number): void {
    const vector = this.vectors.vector(left, right);
    this.counts.set(vector, (this.counts.get(vector) ?? 0) + 1);
  }

  histogram(scale = 1): VectorHistogram {
    const fields = this.vectors.comparators.length;
    const counts = new Float64Array(this.counts.size);
    const levels = new Uint8Array(this.counts.size * fields);
    let p = 0;
    for (const [vector, count] of this.counts) {
      counts[p] = count * scale;
      for (let k = 0; k < fields; k++) levels[p * fields + k] = this.vectors.levelOf(vector, k);
      p++;
    }
    return { fields, counts, levels };
  }
}
