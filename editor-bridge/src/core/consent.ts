/**
 * The user's recording consent, remembered across sessions.
 *
 * Three values: undefined (never asked: ask once, record nothing meanwhile), granted,
 * declined (remembered: never ask again unprompted; the `crowd: Change recording consent`
 * command changes it). The consent text has a version: if what is recorded changes
 * materially, bumping CONSENT_VERSION asks again.
 */
export const CONSENT_VERSION = 1;
const KEY = 'crowd.consent';

export type ConsentDecision = 'granted' | 'declined';

export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void> | Promise<void>;
}

interface Stored {
  decision: ConsentDecision;
  version: number;
  at: number;
}

export class ConsentStore {
  constructor(private readonly store: KeyValueStore) {}

  /** The remembered decision, or undefined when the user must be asked. */
  decision(): ConsentDecision | undefined {
    const s = this.store.get<Stored>(KEY);
    if (s === undefined || typeof s !== 'object') {
      return undefined;
    }
    if (s.decision === 'declined') {
      return 'declined'; // a refusal stands whatever the version
    }
    return s.version === CONSENT_VERSION ? s.decision : undefined;
  }

  /** What the sidecar is told at start: true, false, or null (not decided: record nothing). */
  forSidecar(): boolean | null {
    const d = this.decision();
    return d === undefined ? null : d === 'granted';
  }

  needsPrompt(): boolean {
    return this.decision() === undefined;
  }

  async set(decision: ConsentDecision, nowMs: number = Date.now()): Promise<void> {
    const value: Stored = { decision, version: CONSENT_VERSION, at: nowMs };
    await this.store.update(KEY, value);
  }
}

/** The machine's consent fact (crowd.home.read_consent_fact; written by the sidecar). */
export type MachineFact = 'granted' | 'declined' | 'paused' | null;

/**
 * What this editor should take from the machine's fact, if anything. The fact is written
 * by the sidecar from any editor's answer, so a new browser (code-server keeps extension
 * state per browser) or a new editor does not ask again: an undecided editor adopts it
 * (paused counts as an answer of yes), and a refusal given elsewhere stands over an
 * earlier yes here. Undefined: keep what this editor has.
 */
export function adoptMachineFact(stored: ConsentDecision | undefined, fact: MachineFact): ConsentDecision | undefined {
  if (fact === 'declined') {
    return stored === 'declined' ? undefined : 'declined';
  }
  if (stored === undefined && (fact === 'granted' || fact === 'paused')) {
    return 'granted';
  }
  return undefined;
}
