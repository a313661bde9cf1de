/** Precision, recall and F1 over pairs of records, against the true entity of each record. */
export interface PairwiseAccuracy {
  truePairs: number;
  predictedPairs: number;
  correctPairs: number;
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Scores predicted links against ground truth: a true pair is any two records of the same entity.
 * `linked` are the pairs as predicted; with `closure`, the links are first merged transitively
 * (as the identity graph would) and every pair within a resulting cluster counts as predicted.
 */
export function pairwiseAccuracy(
  entityOf: ReadonlyMap<string, string>,
  linked: Iterable<{ leftId: string; rightId: string }>,
  options: { closure?: boolean } = {},
): PairwiseAccuracy {
  const ids = [...entityOf.keys()];
  const index = new Map(ids.map((id, i) => [id, i]));
  const entities = ids.map((id) => entityOf.get(id)!);
  const truePairs = pairsWithin(groupSizes(entities));
  let predictedPairs = 0;
  let correctPairs = 0;
  if (options.closure) {
    const parent = ids.map((_, i) => i);
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]!]!;
        i = parent[i]!;
      }
      return i;
    };
    for (const { leftId, rightId } of linked)
      parent[find(indexOf(index, leftId))] = find(indexOf(index, rightId));
    const clusters = ids.map((_, i) => String(find(i)));
    predictedPairs = pairsWithin(groupSizes(clusters));
    correctPairs = pairsWithin(groupSizes(clusters.map((c, i) => `${c}\u0000${entities[i]}`)));
  } else {
    const seen = new Set<string>();
    for (const { leftId, rightId } of linked) {
      const [a, b] = [indexOf(index, leftId), indexOf(index, rightId)].sort((x, y) => x - y);
      const key = `${a}:${b}`;
      if (a === b || seen.has(key)) continue;
      seen.add(key);
      predictedPairs++;
      if (entities[a!] === entities[b!]) correctPairs++;
    }
  }
  const precision = predictedPairs === 0 ? 1 : correctPairs / predictedPairs;
  const recall = truePairs === 0 ? 1 : correctPairs / truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { truePairs, predictedPairs, correctPairs, precision, recall, f1 };
}

function indexOf(index: ReadonlyMap<string, number>, id: string): number {
  const i = index.get(id);
  if (i === undefined) throw new Error(`record ${id} has no ground truth`);
  return i;
}

function groupSizes(labels: readonly string[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const label of labels) sizes.set(label, (sizes.get(label) ?? 0) + 1);
  return sizes;
}

function pairsWithin(sizes: Map<string, number>): number {
  let pairs = 0;
  for (const size of sizes.values()) pairs += (size * (size - 1)) / 2;
  return pairs;
}
