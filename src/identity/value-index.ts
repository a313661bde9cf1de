const SHARDS = 16;

/**
 * Identifier values of one namespace → their dense ids. Split over several maps so that a
 * namespace may hold far more values than one JavaScript Map can (about 16.7 million).
 */
export class ValueIndex {
  private readonly shards = Array.from({ length: SHARDS }, () => new Map<string, number>());

  get(value: string): number | undefined {
    return this.shards[shardOf(value)]!.get(value);
  }

  set(value: string, id: number): void {
    this.shards[shardOf(value)]!.set(value, id);
  }
}

/** A cheap spread over the shards: the length and the last two characters (ids differ at the end). */
function shardOf(value: string): number {
  const n = value.length;
  return (n * 7 + value.charCodeAt(n - 1) + (n > 1 ? value.charCodeAt(n - 2) * 3 : 0)) & (SHARDS - 1);
}
