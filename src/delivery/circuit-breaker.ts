/** What a destination's circuit breaker says now. */
export interface BreakerState {
  state: 'closed' | 'open' | 'half-open';
  consecutiveFailures: number;
  openUntil: Date | undefined;
}

/**
 * A per-destination circuit breaker: after `threshold` failed attempts in a row it opens and no
 * attempt is made for `cooldownMs`; then one attempt is let through (half-open): success closes
 * it, failure opens it again for twice as long (at most 32 cooldowns).
 */
export class CircuitBreaker {
  private failures = 0;
  private openedTimes = 0;
  private openUntilMs: number | undefined;

  constructor(
    private threshold: number,
    private cooldownMs: number,
  ) {}

  configure(threshold: number, cooldownMs: number): void {
    this.threshold = threshold;
    this.cooldownMs = cooldownMs;
  }

  /** When the next attempt may start (undefined: now). */
  blockedUntil(now: number): number | undefined {
    return this.openUntilMs !== undefined && this.openUntilMs > now ? this.openUntilMs : undefined;
  }

  succeeded(): void {
    this.failures = 0;
    this.openedTimes = 0;
    this.openUntilMs = undefined;
  }

  failed(now: number): void {
    this.failures += 1;
    const halfOpen = this.openUntilMs !== undefined;
    if (halfOpen || this.failures >= this.threshold) {
      this.openUntilMs = now + this.cooldownMs * 2 ** Math.min(this.openedTimes, 5);
      this.openedTimes += 1;
    }
  }

  state(now: number): BreakerState {
    const open = this.openUntilMs !== undefined;
    return {
      state: !open ? 'closed' : this.openUntilMs! > now ? 'open' : 'half-open',
      consecutiveFailures: this.failures,
      openUntil: open ? new Date(this.openUntilMs!) : undefined,
    };
  }
}
