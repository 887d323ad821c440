/** diagnose() on the recorded seed 000 (listings, ps with the stalled recv, the clone's local properties, fuser). */
import { describe, expect, it } from 'vitest';
import { parseLocalProperties } from '../../../src/core/replication/cloneRebase.js';
import { diagnose, withRebasedClones, type DiagnoseOptions } from '../../../src/core/replication/diagnose.js';
import { checkPreconditions } from '../../../src/core/replication/plan.js';
import { parseMountUsers, parseProcessList } from '../../../src/core/replication/processes.js';
import { R1, R2, fixture, fuseListing, scenarioPair } from './fixtures.js';

const CLONE = `${R2}/seed000/clones/products`;
const DST = `${R2}/seed000/products`;
const src = fuseListing('seed000', 'off1');
const dst = fuseListing('seed000', 'ovh3');
const pair = scenarioPair('seed000', 'products');
const ps = parseProcessList(fixture('seed000.ovh3.ps.txt'));
const props = parseLocalProperties(fixture('seed000.ovh3.local-props.txt'));
const users = parseMountUsers(fixture('seed000.ovh3.mount-users.txt'));
const full: DiagnoseOptions = {
  processes: new Map([
    ['ovh3', ps],
    ['off1', []],
  ]),
  cloneProperties: new Map([[CLONE, props]]),
  mountUsers: new Map([[CLONE, users]]),
  stalledAfterSeconds: 10,
  date: '20230610-0900',
};

describe('diagnose seed 000', () => {
  const d = diagnose(pair, src, dst, full);

  it('explains the chain of causes in order', () => {
    expect(d.findings.map((f) => f.kind)).toEqual([
      'stalled-process',
      'base-pruned',
      'target-modified-unknown',
      'clone-blocks-rollback',
      'busy-mount',
      'retention',
      'behind',
    ]);
    expect(d.findings[0]!.message).toMatch(
      /ovh3: `zfs recv -F rpool\/rtest-fx\/seed000\/products` \(pid \d+\) has been running for \d+s: a stalled receive keeps .* busy/,
    );
    expect(d.findings[1]!.message).toContain('@20230515-0000, @20230530-2330 no longer exist on the source (pruned by retention)');
    expect(d.findings[1]!.message).toContain('the newest snapshot both sides still have is @20230501-0000');
    expect(d.findings[3]!.message).toContain(`${CLONE} is a clone of ${DST}@20230515-0000`);
    expect(d.findings[4]!.mountUsers?.[0]!.args).toMatch(/^sleep 120\./);
    expect(d.needs).toEqual([]);
    expect(d.summary).toMatch(/Fix: 1\) stop the stalled receive .* 2\) re-base the clone .* 3\) roll .* back to .*@20230501-0000 .* 4\) send 1 snapshot/);
  });

  it('one ordered fix plan: kill, rebase (keeping the data), rollback, sync; every step confirmed on its own', () => {
    const fix = d.fix!;
    expect(fix.kind).toBe('diagnose-fix');
    expect(fix.steps.map((s) => s.op)).toEqual(['kill', 'snapshot', 'send', 'destroy', 'clone', 'hold', 'hold', 'rollback', 'send', 'release', 'release']);
    expect(fix.steps.every((s) => s.confirm)).toBe(true);
    const kill = fix.steps[0]!;
    const pid = d.findings[0]!.process!.pid;
    expect(kill.type === 'command' && kill.argv.slice(-2)).toEqual([String(pid), `zfs recv -F ${DST}`]);
    const rb = fix.steps[7]!;
    expect(rb.type === 'command' && rb.argv).toEqual(['zfs', 'rollback', '-r', `${DST}@20230501-0000`]);
    const send = fix.steps[8]!;
    expect(send.type === 'pipe' && send.from.argv).toEqual([
      'zfs',
      'send',
      '-I',
      `${R1}/seed000/products@20230501-0000`,
      `${R1}/seed000/products@20230608-1130`,
    ]);
    expect(fix.destroys.clones.map((c) => c.name)).toEqual([CLONE]);
    expect(fix.destroys.snapshots.map((c) => c.name)).not.toContain(`${DST}@20230501-0000`);
    expect(fix.warnings.join('\n')).toContain('stop what uses');
    expect(fix.preview?.cloneUsage).toBeDefined();
  });

  it('preconditions: the rebase part is checked at the start, the sync part before its first step', () => {
    const fix = d.fix!;
    const listings = new Map([
      ['off1', src],
      ['ovh3', dst],
    ]);
    expect(checkPreconditions(fix, listings)).toEqual([]);
    const firstSync = fix.steps[5]!.id;
    // before the rebase ran, the sync part would see the clone still on @20230515-0000
    const before = checkPreconditions(fix, listings, { beforeStep: firstSync });
    expect(before.map((c) => c.message)).toEqual([`ovh3: ${DST}@20230515-0000 now has clone ${CLONE}`]);
    // after the rebase, the same check passes
    const after = new Map([
      ['off1', src],
      ['ovh3', withRebasedClones(dst, [{ clone: CLONE, onto: `${DST}@20230501-0000` }])],
    ]);
    expect(checkPreconditions(fix, after, { beforeStep: firstSync })).toEqual([]);
    // the process precondition is re-checked when a fresh ps is given
    const gone = checkPreconditions(fix, listings, { processes: new Map([['ovh3', ps.filter((p) => !p.args.startsWith('zfs recv'))]]) });
    expect(gone.map((c) => c.message)).toEqual([expect.stringContaining('is no longer running')]);
  });

  it("without the clone's local properties: no fix, and the command that reads them", () => {
    const x = diagnose(pair, src, dst, { ...full, cloneProperties: new Map() });
    expect(x.fix).toBeUndefined();
    expect(x.fixUnavailable).toContain('locally set properties');
    expect(x.needs).toEqual([
      {
        host: 'ovh3',
        purpose: 'local-properties',
        subject: CLONE,
        argv: ['zfs', 'get', '-H', '-p', '-s', 'local', '-o', 'property,value,source', 'all', CLONE],
      },
    ]);
  });

  it('without process lists: asks for ps on both hosts, still plans the rest', () => {
    const x = diagnose(pair, src, dst, { ...full, processes: undefined, mountUsers: undefined });
    expect(x.needs.map((n) => `${n.host} ${n.purpose}`)).toEqual(['ovh3 processes', 'off1 processes', 'ovh3 mount-users']);
    expect(x.fix!.steps[0]!.op).toBe('snapshot');
  });

  it('a young receive is reported, not killed, and nothing is planned under it', () => {
    const x = diagnose(pair, src, dst, { ...full, stalledAfterSeconds: 3600 });
    expect(x.findings[0]!.kind).toBe('running-process');
    expect(x.fix).toBeUndefined();
    expect(x.fixUnavailable).toMatch(/a send or receive of the pair is running \(pid \d+ on ovh3/);
  });
});

describe('diagnose other scenarios', () => {
  const none = {
    processes: new Map([
      ['off1', []],
      ['ovh3', []],
    ]),
  };

  it('in sync: nothing to fix', () => {
    const d = diagnose(scenarioPair('insync'), fuseListing('insync', 'off1'), fuseListing('insync', 'ovh3'), none);
    expect(d.fix).toBeUndefined();
    expect(d.findings.map((f) => f.kind)).toEqual(['target-modified-unknown', 'in-sync']);
    expect(d.summary).toContain('Nothing to fix.');
  });

  it('behind: the fix is the sync', () => {
    const d = diagnose(scenarioPair('behind'), fuseListing('behind', 'off1'), fuseListing('behind', 'ovh3'), none);
    expect(d.fix!.steps.map((s) => s.op)).toEqual(['hold', 'hold', 'send', 'release', 'release']);
  });

  it('pruned on the source: no fix can be planned, and why', () => {
    const d = diagnose(scenarioPair('pruned'), fuseListing('pruned', 'off1'), fuseListing('pruned', 'ovh3'), none);
    expect(d.findings.map((f) => f.kind)).toEqual(['no-common']);
    expect(d.fix).toBeUndefined();
    expect(d.fixUnavailable).toContain('pruned-on-source');
  });
});
