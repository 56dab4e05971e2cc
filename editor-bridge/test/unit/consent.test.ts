import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONSENT_VERSION, ConsentStore, KeyValueStore } from '../../src/core/consent';

class MemoryState implements KeyValueStore {
  data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    // a round trip through JSON like VS Code's globalState
    this.data.set(key, JSON.parse(JSON.stringify(value)));
  }
}

test('first run: undecided, the sidecar gets null and must record nothing', () => {
  const s = new ConsentStore(new MemoryState());
  assert.equal(s.decision(), undefined);
  assert.equal(s.needsPrompt(), true);
  assert.equal(s.forSidecar(), null);
});

test('a decision is remembered across restarts (a new store over the same state)', async () => {
  const state = new MemoryState();
  await new ConsentStore(state).set('declined');
  const again = new ConsentStore(state);
  assert.equal(again.decision(), 'declined');
  assert.equal(again.needsPrompt(), false, 'declining is remembered: no prompt next time');
  assert.equal(again.forSidecar(), false);
  await again.set('granted');
  assert.equal(new ConsentStore(state).forSidecar(), true, 'the decision can be changed');
});

test('a grant for an older consent text asks again; a refusal stands', async () => {
  const state = new MemoryState();
  await state.update('crowd.consent', { decision: 'granted', version: CONSENT_VERSION - 1, at: 0 });
  assert.equal(new ConsentStore(state).needsPrompt(), true);
  await state.update('crowd.consent', { decision: 'declined', version: CONSENT_VERSION - 1, at: 0 });
  assert.equal(new ConsentStore(state).decision(), 'declined');
});

test('garbage in the state is treated as undecided', async () => {
  const state = new MemoryState();
  await state.update('crowd.consent', 'yes');
  assert.equal(new ConsentStore(state).decision(), undefined);
});

test('the machine fact: an undecided editor adopts it, a refusal elsewhere stands', async () => {
  const { adoptMachineFact } = await import('../../src/core/consent');
  assert.equal(adoptMachineFact(undefined, 'granted'), 'granted');
  assert.equal(adoptMachineFact(undefined, 'paused'), 'granted');
  assert.equal(adoptMachineFact(undefined, 'declined'), 'declined');
  assert.equal(adoptMachineFact(undefined, null), undefined, 'never answered anywhere: ask');
  assert.equal(adoptMachineFact('granted', 'declined'), 'declined');
  assert.equal(adoptMachineFact('declined', 'granted'), undefined, 'a refusal here is not overridden by a yes elsewhere');
  assert.equal(adoptMachineFact('granted', 'granted'), undefined);
});
