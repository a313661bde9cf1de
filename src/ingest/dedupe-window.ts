/**
 * The messageIds seen in the last `windowMs`, keyed `sourceId:messageId`.
 * A Map keeps insertion order, and ids arrive in time order, so expiry pops from the front.
 */
export class DedupeWindow {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  get size(): number {
    return this.seen.size;
  }

  has(key: string): boolean {
    return this.seen.has(key);
  }

  add(key: string, atMs: number): void {
    this.seen.set(key, atMs);
  }

  delete(key: string): void {
    this.seen.delete(key);
  }

  /** Forgets ids older than the window; cheap enough to call on every commit. */
  expire(nowMs: number): void {
    const cutoff = nowMs - this.windowMs;
    for (const [key, at] of this.seen) {
      if (at >= cutoff) return;
      this.seen.delete(key);
    }
  }
}
