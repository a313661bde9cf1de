/**
 * Disjoint sets over dense integer ids (0..n-1), with union by size and path halving, so a
 * graph of tens of millions of identifiers fits in a few typed arrays.
 */
export class UnionFind {
  private parent: Int32Array;
  private size: Int32Array;
  private count = 0;

  constructor(initialCapacity = 1024) {
    this.parent = new Int32Array(initialCapacity);
    this.size = new Int32Array(initialCapacity);
  }

  /** Number of elements added so far. */
  get length(): number {
    return this.count;
  }

  /** Adds a singleton set and returns its id (ids are handed out 0, 1, 2, ...). */
  add(): number {
    if (this.count === this.parent.length) this.grow();
    const id = this.count++;
    this.parent[id] = id;
    this.size[id] = 1;
    return id;
  }

  find(id: number): number {
    const parent = this.parent;
    let x = id;
    while (parent[x] !== x) {
      const grand = parent[parent[x]!]!;
      parent[x] = grand;
      x = grand;
    }
    return x;
  }

  /** Joins two roots; returns the root that now represents both (the larger set). */
  unionRoots(a: number, b: number): number {
    if (a === b) return a;
    const [big, small] = this.size[a]! >= this.size[b]! ? [a, b] : [b, a];
    this.parent[small] = big;
    this.size[big] = this.size[big]! + this.size[small]!;
    return big;
  }

  sizeOf(root: number): number {
    return this.size[root]!;
  }

  private grow(): void {
    const capacity = this.parent.length * 2;
    const parent = new Int32Array(capacity);
    parent.set(this.parent);
    const size = new Int32Array(capacity);
    size.set(this.size);
    this.parent = parent;
    this.size = size;
  }
}
