/** Profiles by the time they next need a look, earliest first (a binary heap; stale entries are skipped by the caller). */
export class TimerQueue {
  private readonly dues: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.dues.length;
  }

  /** The earliest time queued, or `Infinity`. */
  peek(): number {
    return this.dues.length > 0 ? this.dues[0]! : Number.POSITIVE_INFINITY;
  }

  push(due: number, id: string): void {
    this.dues.push(due);
    this.ids.push(id);
    let i = this.dues.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.dues[parent]! <= due) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the earliest entry. */
  pop(): { due: number; id: string } | undefined {
    if (this.dues.length === 0) return undefined;
    const top = { due: this.dues[0]!, id: this.ids[0]! };
    const lastDue = this.dues.pop()!;
    const lastId = this.ids.pop()!;
    if (this.dues.length > 0) {
      this.dues[0] = lastDue;
      this.ids[0] = lastId;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < this.dues.length && this.dues[l]! < this.dues[smallest]!) smallest = l;
        if (r < this.dues.length && this.dues[r]! < this.dues[smallest]!) smallest = r;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    [this.dues[a], this.dues[b]] = [this.dues[b]!, this.dues[a]!];
    [this.ids[a], this.ids[b]] = [this.ids[b]!, this.ids[a]!];
  }
}
