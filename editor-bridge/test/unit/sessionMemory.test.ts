import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyValueStore } from '../../src/core/consent';
import { SessionMemory, continuedSession } from '../../src/core/sessionMemory';

class MemoryState implements KeyValueStore {
  data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.data.set(key, JSON.parse(JSON.stringify(value))); // a JSON round trip like workspaceState
  }
}

const ID = '20261206-201500-a1b2c3';

test('a recording session is remembered across windows over the same workspace state', async () => {
  const state = new MemoryState();
  assert.equal(new SessionMemory(state).last(), undefined);
  await new SessionMemory(state).remember({ state: 'recording', sessionId: ID });
  assert.equal(new SessionMemory(state).last(), ID);
});

test('only a recording or paused session is remembered, and only a session id', async () => {
  const state = new MemoryState();
  const memory = new SessionMemory(state);
  await memory.remember({ state: 'awaiting_consent', sessionId: ID });
  await memory.remember({ state: 'recording', sessionId: '../../etc' });
  await memory.remember({ state: 'recording', sessionId: null });
  assert.equal(memory.last(), undefined);
  await memory.remember({ state: 'paused', sessionId: ID });
  assert.equal(memory.last(), ID);
  state.data.set('crowd.session', 42);
  assert.equal(memory.last(), undefined, 'a damaged value is not sent');
});

test('a new session replaces the remembered one', async () => {
  const memory = new SessionMemory(new MemoryState());
  await memory.remember({ state: 'recording', sessionId: ID });
  await memory.remember({ state: 'recording', sessionId: '20261206-201900-ffffff' });
  assert.equal(memory.last(), '20261206-201900-ffffff');
});

test('after a crash the restarted process is not asked to continue', () => {
  assert.equal(continuedSession(false, ID), ID);
  assert.equal(continuedSession(true, ID), undefined);
  assert.equal(continuedSession(false, undefined), undefined);
});
