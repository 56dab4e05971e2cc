/**
 * Which settings the running sidecar was started with that no longer hold.
 *
 * WHY: after a window reload in code-server the extension host could start the sidecar
 * before the user's settings reached it; the sidecar then recorded into the default folder
 * instead of `crowd.exportPath` (1 of 6 fresh-clone runs of the declined-then-granted e2e
 * test). A settings-change event is not enough to rely on, so the bridge compares what the
 * sidecar was started with against the settings now, on every status it gets and before it
 * grants consent, and restarts the sidecar on a difference. No `vscode` import: unit tested.
 */
export type Fixed = Record<string, unknown>;

/** Keys whose values differ (compared as JSON; missing and undefined are equal). */
export function drifted(startedWith: Fixed | undefined, now: Fixed): string[] {
  if (startedWith === undefined) {
    return [];
  }
  const keys = new Set([...Object.keys(startedWith), ...Object.keys(now)]);
  return [...keys].filter((k) => JSON.stringify(startedWith[k] ?? null) !== JSON.stringify(now[k] ?? null)).sort();
}

/**
 * A drift must hold for `holdMs` before the sidecar is restarted for it. WHY: in code-server
 * the extension host's view of the user settings was seen to flip (crowd.python and
 * crowd.exportPath gone, 58 s into a session, with nothing changed on disk); restarting at
 * once for every flip starts a new session in another folder each time.
 */
export class DriftGate {
  private seen: { keys: string; since: number } | undefined;

  constructor(private readonly holdMs = 3_000) {}

  /** Whether to restart now, given the drifted keys observed at `now`. */
  observe(keys: readonly string[], now: number): boolean {
    if (!keys.length) {
      this.seen = undefined;
      return false;
    }
    const key = keys.join(',');
    if (!this.seen || this.seen.keys !== key) {
      this.seen = { keys: key, since: now };
      return false;
    }
    if (now - this.seen.since < this.holdMs) {
      return false;
    }
    this.seen = undefined;
    return true;
  }
}
