// The store's PostgreSQL pool across a server restart (src/store/pgPool.ts), without a server: pg's
// own Pool for the listeners, a scripted connect for the retries. The real restart is
// test/integration/cli-queue-pg-restart.test.ts.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isServerAway, patientPool } from '../../../src/store/pgPool.js';

const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:55477'), { code: 'ECONNREFUSED' });
const startingUp = Object.assign(new Error('the database system is starting up'), { code: '57P03' });
const badPassword = Object.assign(new Error('password authentication failed for user "fleet"'), { code: '28P01' });

/** A pool whose connect answers from a script: an Error is thrown, anything else returned. */
function scripted(answers: unknown[]) {
  const pool = new EventEmitter() as EventEmitter & { connect(): Promise<unknown>; end(): Promise<void>; calls: number };
  pool.calls = 0;
  pool.connect = async () => {
    const a = answers[Math.min(pool.calls++, answers.length - 1)];
    if (a instanceof Error) throw a;
    return a;
  };
  pool.end = async () => {};
  return pool;
}

/** A clock that a sleep moves on. */
function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('the store pool across a PostgreSQL restart', () => {
  it("a session the server ends (57P01), idle in pg's Pool or checked out, is told, not thrown (Node throws an 'error' event with no listener)", () => {
    const raw = new pg.Pool({ connectionString: 'postgres://fleet@127.0.0.1:1/none' });
    // Without a listener this is what killed the worker: "Unhandled 'error' event".
    expect(() => raw.emit('error', terminated)).toThrow(/administrator command/);
    const told: Error[] = [];
    patientPool(raw, { onConnectionLost: (e) => told.push(e) });
    expect(() => raw.emit('error', terminated)).not.toThrow();
    // A client checked out between two statements: pg emits on the client itself.
    const client = new EventEmitter();
    raw.emit('connect', client);
    expect(() => client.emit('error', terminated)).not.toThrow();
    expect(told).toEqual([terminated, terminated]);
  });

  it('once the server has answered, a connection refused or "starting up" is asked for again until it comes', async () => {
    const pool = scripted(['c1', refused, refused, startingUp, 'c2']);
    const c = clock();
    const told: Error[] = [];
    const p = patientPool(pool, { ...c, onConnectionLost: (e) => told.push(e) });
    expect(await p.connect()).toBe('c1');
    expect(await p.connect()).toBe('c2');
    expect(pool.calls).toBe(5);
    expect(told).toEqual([refused, refused, startingUp]);
    expect(c.now()).toBe(750);
  });

  it('a server that never answered, an error that is not the server being away, or a restart longer than the patience: thrown', async () => {
    await expect(patientPool(scripted([refused]), clock()).connect()).rejects.toBe(refused);
    const wrongPassword = scripted(['c1', badPassword]);
    const p = patientPool(wrongPassword, clock());
    await p.connect();
    await expect(p.connect()).rejects.toBe(badPassword);
    expect(wrongPassword.calls).toBe(2);
    const c = clock();
    const away = scripted(['c1', refused]);
    const q = patientPool(away, { ...c, patienceMs: 1000, retryMs: 250 });
    await q.connect();
    await expect(q.connect()).rejects.toBe(refused);
    expect(c.now()).toBe(1000);
  });

  it('what counts as the server being away', () => {
    for (const e of [terminated, refused, startingUp, new Error('Connection terminated unexpectedly'), Object.assign(new Error('x'), { code: 'ECONNRESET' })])
      expect(isServerAway(e), e.message).toBe(true);
    for (const e of [badPassword, new Error('relation "jobs" does not exist'), Object.assign(new Error('x'), { code: '23505' }), undefined])
      expect(isServerAway(e), String(e)).toBe(false);
  });
});
