/**
 * How much a press of panic deletes.
 *
 * The first press deletes the last `baseMinutes`; each further press within `repeatMs` of
 * the previous one widens the window by another `baseMinutes` (10, 20, 30 ... minutes back
 * from now), so a user who realises the secret was typed earlier just presses again.
 */
export class PanicEscalator {
  private presses = 0;
  private lastPress = -Infinity;

  constructor(private baseMinutes: number, private readonly repeatMs = 60_000) {}

  setBase(minutes: number): void {
    this.baseMinutes = minutes;
  }

  /** What a press at ``nowMs`` would delete (the panic button's tooltip). */
  peek(nowMs: number): number {
    return this.baseMinutes * (nowMs - this.lastPress <= this.repeatMs ? this.presses + 1 : 1);
  }

  press(nowMs: number): number {
    this.presses = nowMs - this.lastPress <= this.repeatMs ? this.presses + 1 : 1;
    this.lastPress = nowMs;
    return this.baseMinutes * this.presses;
  }
}

/** "10 minutes", "1 minute", "15 seconds" (panicMinutes may be a fraction). */
export function formatMinutes(minutes: number): string {
  if (minutes < 1) {
    const s = Math.round(minutes * 60);
    return `${s} second${s === 1 ? '' : 's'}`;
  }
  const m = Math.round(minutes * 100) / 100;
  return `${m} minute${m === 1 ? '' : 's'}`;
}
