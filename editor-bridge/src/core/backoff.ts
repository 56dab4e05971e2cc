/**
 * Restart delays for a crashed sidecar: exponential with a cap, reset once it ran stably.
 *
 * WHY not vscode-languageclient's own restart: it gives up for good after 5 crashes in
 * 3 minutes; a recorder should keep trying (slowly) and say so in the status bar.
 */
export class Backoff {
  private failures = 0;
  private startedAt: number | undefined;

  constructor(
    private readonly firstMs = 1_000,
    private readonly maxMs = 30_000,
    private readonly stableMs = 60_000,
  ) {}

  /** The process started (or was restarted) at `nowMs`. */
  started(nowMs: number): void {
    this.startedAt = nowMs;
  }

  /** The process died at `nowMs`: how long to wait before starting it again. */
  failed(nowMs: number): number {
    if (this.startedAt !== undefined && nowMs - this.startedAt >= this.stableMs) {
      this.failures = 0;
    }
    this.startedAt = undefined;
    const delay = Math.min(this.maxMs, this.firstMs * 2 ** this.failures);
    this.failures += 1;
    return delay;
  }

  get failureCount(): number {
    return this.failures;
  }
}
