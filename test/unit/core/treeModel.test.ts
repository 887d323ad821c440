/** The fleet tree model's change events (what the Hosts view, the Replication view and the timelines subscribe to). */
import { describe, expect, it } from 'vitest';
import { Emitter } from '../../../src/core/event.js';
import { Fleet } from '../../../src/core/fleet/fleet.js';
import { FleetTreeModel, type HostChange } from '../../../src/core/fleet/treeModel.js';
import { silentLogger, type Logger } from '../../../src/core/log.js';
import { RunnerError, type Runner } from '../../../src/core/runner.js';

/** A fleet whose hosts never answer: every listing ends in the host's error state. */
function unreachableFleet(names: string[]): Fleet {
  const runner = (spec: string): Runner => ({
    label: spec,
    run: async () => {
      throw new RunnerError('connect', `${spec}: connection refused`, spec);
    },
    dispose: async () => {},
  });
  const fleet = new Fleet(runner, { zfsPath: 'zfs', zpoolPath: 'zpool', commandTimeoutMs: 1000 }, silentLogger, undefined, true);
  fleet.setHosts(names);
  return fleet;
}

describe('FleetTreeModel change events', () => {
  it('fires onDidChangeHost with the host and its new state kind when a listing starts and when it ends', async () => {
    const m = new FleetTreeModel(unreachableFleet(['a', 'b']));
    const seen: string[] = [];
    m.onDidChangeHost((e: HostChange) => seen.push(`${e.host}:${e.state}:${m.state(e.host)!.state}`));
    const s = await m.loadHost('a', true);
    expect(s.state).toBe('error');
    expect(seen).toEqual(['a:loading:loading', 'a:error:error']);
  });

  it('a disposed subscription hears nothing more; others still do', async () => {
    const m = new FleetTreeModel(unreachableFleet(['a']));
    const first: string[] = [];
    const second: string[] = [];
    const sub = m.onDidChangeHost((e) => first.push(e.state));
    m.onDidChangeHost((e) => second.push(e.state));
    await m.loadHost('a', true);
    sub.dispose();
    sub.dispose();
    await m.loadHost('a', true);
    expect(first).toEqual(['loading', 'error']);
    expect(second).toEqual(['loading', 'error', 'loading', 'error']);
  });

  it('a listener that throws neither stops the others nor the load; the error is logged', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (msg) => errors.push(msg) };
    const m = new FleetTreeModel(unreachableFleet(['a']), logger);
    const seen: string[] = [];
    m.onDidChangeHost(() => {
      throw new Error('listener broke');
    });
    m.onDidChangeHost((e) => seen.push(e.state));
    await expect(m.loadHost('a', true)).resolves.toMatchObject({ state: 'error' });
    expect(seen).toEqual(['loading', 'error']);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/listener broke/);
  });

  it('hostsChanged fires onDidChangeHostList (the host list changed: redraw from the root)', () => {
    const m = new FleetTreeModel(unreachableFleet(['a']));
    let n = 0;
    m.onDidChangeHostList(() => n++);
    m.hostsChanged();
    expect(n).toBe(1);
    m.dispose();
    m.hostsChanged();
    expect(n).toBe(1);
  });
});

describe('Emitter', () => {
  it('a listener removed while an event is delivered is not called for it', () => {
    const e = new Emitter<number>(() => {});
    const calls: string[] = [];
    const later: { dispose(): void }[] = [];
    e.event((x) => {
      calls.push(`first ${x}`);
      for (const s of later) s.dispose();
    });
    later.push(e.event((x) => calls.push(`second ${x}`)));
    e.fire(1);
    e.fire(2);
    expect(calls).toEqual(['first 1', 'first 2']);
  });
});
