/** Snapshot and destroy-snapshots plans from listings recorded on the zfs-fuse lab. */
import { describe, expect, it } from 'vitest';
import { planDestroySnapshots, planSnapshot, selectSnapshots } from '../../../src/core/ops/snapshots.js';
import { checkPreconditions, planToShell } from '../../../src/core/replication/plan.js';
import { basesLost } from '../../../src/core/replication/baseGuard.js';
import { R1, R2, fuseListing, planError, scenarioPair } from '../replication/fixtures.js';

const behind = fuseListing('behind', 'off1');
const FS = `${R1}/behind/fs`;
const chain = fuseListing('clonechain', 'ovh3');
const CC = `${R2}/clonechain/fs`;

const names = (p: { destroys: { snapshots: { name: string }[] } }) => p.destroys.snapshots.map((s) => s.name.slice(s.name.indexOf('@')));

describe('selectSnapshots: names and ranges as zfs destroy takes them', () => {
  const e = behind.datasets.get(FS)!;
  const sel = (spec: string) => selectSnapshots('off1', e, spec).map((s) => s.name.slice(s.name.indexOf('@')));
  it('names, ranges, open ends, oldest first, each once', () => {
    expect(sel('20230515-0000')).toEqual(['@20230515-0000']);
    expect(sel('20230515-0000%20230608-1130')).toEqual(['@20230515-0000', '@20230530-2330', '@20230608-1130']);
    expect(sel('%20230515-0000')).toEqual(['@20230501-0000', '@20230515-0000']);
    expect(sel('20230530-2330%')).toEqual(['@20230530-2330', '@20230608-1130']);
    expect(sel('20230608-1130,20230501-0000%20230515-0000,20230501-0000')).toEqual(['@20230501-0000', '@20230515-0000', '@20230608-1130']);
  });
  it('bad input: a missing snapshot, a range backwards, an empty name, two %', () => {
    expect(planError(() => sel('nope')).reason).toBe(`off1: ${FS}@nope does not exist`);
    expect(planError(() => sel('20230608-1130%20230501-0000')).reason).toMatch(
      /@20230608-1130 is newer than @20230501-0000 \(a range goes from the older to the newer\)/,
    );
    expect(planError(() => sel('20230501-0000,')).reason).toMatch(/an empty snapshot name/);
    expect(planError(() => sel('a%b%c')).reason).toMatch(/'a%b%c' is not a range/);
  });
});

describe('planDestroySnapshots', () => {
  it('a step per snapshot, each re-checked right before it (same guid, no clone since); the preview lists every one', () => {
    const p = planDestroySnapshots('off1', behind, FS, '20230501-0000%20230515-0000');
    expect(names(p)).toEqual(['@20230501-0000', '@20230515-0000']);
    expect(p.steps.map((s) => s.type === 'command' && s.argv)).toEqual([
      ['zfs', 'destroy', `${FS}@20230501-0000`],
      ['zfs', 'destroy', `${FS}@20230515-0000`],
    ]);
    expect(p.preconditions.filter((c) => c.beforeStep === 's2').map((c) => c.kind)).toEqual(['snapshot-exists', 'no-clones']);
    expect(p.summary).toBe(`Destroy 2 snapshots of off1:${FS} (@20230501-0000, @20230515-0000); 2 kept.`);
    expect(planToShell(p).byHost.get('off1')).toEqual([`zfs destroy ${FS}@20230501-0000`, `zfs destroy ${FS}@20230515-0000`]);
    expect(p.warnings).toEqual([]);
    // The snapshot gone since the plan was made: its step's re-check says so.
    const after = fuseListing('behind', 'off1');
    const e = after.datasets.get(FS)!;
    e.snapshots = e.snapshots.filter((s) => !s.name.endsWith('@20230515-0000'));
    expect(checkPreconditions(p, new Map([['off1', after]]), { beforeStep: 's2' }).map((c) => c.message)).toEqual([
      `off1: ${FS}@20230515-0000 no longer exists`,
    ]);
  });

  it('the newest, and all: said in the warnings', () => {
    const p = planDestroySnapshots('off1', behind, FS, '%');
    expect(names(p)).toHaveLength(4);
    expect(p.warnings.join('\n')).toMatch(/@20230608-1130 is .*newest snapshot/);
    expect(p.warnings.join('\n')).toMatch(/keeps no snapshot: the next sync of a pair from it is a full send/);
  });

  it('a snapshot with a clone is refused with the clone named; nothing is planned', () => {
    const e = planError(() => planDestroySnapshots('ovh3', chain, CC, '20230501-0000%20230530-2330'));
    expect(e.reason).toBe(`ovh3: not destroyed: ${CC}@20230515-0000 has clone ${R2}/clonechain/c1 (promote or destroy it first)`);
  });

  it('a held snapshot is refused with the holds named', () => {
    const held = fuseListing('behind', 'off1');
    held.datasets.get(FS)!.snapshots.find((s) => s.name.endsWith('@20230530-2330'))!.userrefs = 2;
    expect(planError(() => planDestroySnapshots('off1', held, FS, '20230530-2330')).reason).toBe(
      `off1: not destroyed: ${FS}@20230530-2330 has 2 user holds (see zfs holds; release them first)`,
    );
  });

  it("the pair's newest common snapshot is what the base guard catches (the app layer refuses it)", () => {
    const pair = scenarioPair('behind');
    const target = fuseListing('behind', 'ovh3');
    const listing = (h: string) => (h === 'off1' ? behind : h === 'ovh3' ? target : undefined);
    const base = planDestroySnapshots('off1', behind, FS, '20230515-0000');
    expect(basesLost(base.destroys, [pair], listing).map((l) => l.destroyed)).toEqual([`${FS}@20230515-0000`]);
    const older = planDestroySnapshots('off1', behind, FS, '20230501-0000');
    expect(basesLost(older.destroys, [pair], listing)).toEqual([]);
  });
});

describe('planSnapshot', () => {
  it('one zfs snapshot, the name checked absent right before', () => {
    const p = planSnapshot('off1', behind, `${FS}@manual-1`);
    expect(p.steps.map((s) => s.type === 'command' && s.argv)).toEqual([['zfs', 'snapshot', `${FS}@manual-1`]]);
    expect(p.preconditions).toContainEqual({ kind: 'snapshot-absent', host: 'off1', name: `${FS}@manual-1` });
    expect(p.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
  });
  it('recursive: every descendant named in the preconditions', () => {
    const p = planSnapshot('ovh3', chain, `${R2}/clonechain@r`, { recursive: true });
    expect(p.steps[0]!.type === 'command' && p.steps[0]!.argv).toEqual(['zfs', 'snapshot', '-r', `${R2}/clonechain@r`]);
    expect(p.preconditions.filter((c) => c.kind === 'snapshot-absent').length).toBe(chain.datasets.size);
    expect(p.summary).toMatch(new RegExp(`and its ${chain.datasets.size - 1} descendants`));
  });
  it('bad input: a name taken, an invalid name, a missing dataset', () => {
    expect(planError(() => planSnapshot('off1', behind, `${FS}@20230501-0000`)).reason).toBe(`off1: ${FS}@20230501-0000 already exists`);
    expect(planError(() => planSnapshot('off1', behind, `${FS}@bad name!`)).code).toBe('invalid');
    expect(planError(() => planSnapshot('off1', behind, `${R1}/nope@x`)).reason).toBe(`off1: ${R1}/nope does not exist`);
  });
});
