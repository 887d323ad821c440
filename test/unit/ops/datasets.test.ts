/**
 * Hold, release, clone, promote, set and rename plans, from listings and `zfs get -r` rows recorded
 * on the zfs-fuse lab (test/unit/replication/fixtures; test/fixtures/zfs-fuse/get-r-props-*).
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planClone, planHold, planPromote, planRelease, planRename, planSetProperty, pairsTouching } from '../../../src/core/ops/datasets.js';
import { checkPreconditions, planToShell, renderPlan, type Plan } from '../../../src/core/replication/plan.js';
import { parsePropertyRows, propertyNameProblem } from '../../../src/core/zfs/properties.js';
import { buildListing } from '../../../src/core/fleet/listing.js';
import { parseZfsGetTriples } from '../../../src/core/zfs/parse.js';
import { R1, R2, capabilities, fuseListing, planError, scenarioPair } from '../replication/fixtures.js';

const behind = fuseListing('behind', 'off1');
const FS = `${R1}/behind/fs`;
const chain = fuseListing('clonechain', 'ovh3');
const CC = `${R2}/clonechain`;
const argv = (p: Plan) => p.steps.map((s) => (s.type === 'command' ? s.argv : []));

describe('hold and release', () => {
  it('hold: one step, the snapshot re-checked by guid; the effects say what a hold keeps', () => {
    const p = planHold('off1', behind, `${FS}@20230515-0000`, 'keep');
    expect(argv(p)).toEqual([['zfs', 'hold', 'keep', `${FS}@20230515-0000`]]);
    expect(p.preconditions).toEqual([{ kind: 'snapshot-exists', host: 'off1', name: `${FS}@20230515-0000`, guid: expect.stringMatching(/^\d+$/) }]);
    expect(p.effects!.join('\n')).toMatch(/retention .* keeps it/);
    expect(p.destroys.snapshots).toEqual([]);
  });
  it('hold -r: the same-named snapshots of the descendants are listed', () => {
    const p = planHold('ovh3', chain, `${CC}/c1@x`, 'keep', { recursive: true });
    expect(argv(p)).toEqual([['zfs', 'hold', '-r', 'keep', `${CC}/c1@x`]]);
    expect(p.effects![0]).toBe(`Held: ${CC}/c1@x, ${CC}/c1/child@x.`);
  });
  it('release: a snapshot without holds is refused; the sync hold of a pair is warned about', () => {
    expect(planError(() => planRelease('off1', behind, `${FS}@20230515-0000`, 'keep')).reason).toBe(
      `off1: ${FS}@20230515-0000 has no holds (zfs holds lists none)`,
    );
    const held = fuseListing('behind', 'off1');
    held.datasets.get(FS)!.snapshots.find((s) => s.name.endsWith('@20230515-0000'))!.userrefs = 1;
    const p = planRelease('off1', held, `${FS}@20230515-0000`, 'zfs-fleet-sync-0a1b2c3d');
    expect(argv(p)).toEqual([['zfs', 'release', 'zfs-fleet-sync-0a1b2c3d', `${FS}@20230515-0000`]]);
    expect(p.warnings[0]).toMatch(/the hold zfs-fleet puts on a pair's common base/);
    expect(p.effects).toEqual([`${FS}@20230515-0000 has no other hold: once released, it can be destroyed (by hand or by retention).`]);
  });
  it('bad input: a tag that reads as an option, control bytes, a missing snapshot, a bad name', () => {
    expect(planError(() => planHold('off1', behind, `${FS}@20230515-0000`, '-r')).reason).toMatch(/begins with '-'/);
    expect(planError(() => planHold('off1', behind, `${FS}@20230515-0000`, 'a\nb')).reason).toMatch(/control characters/);
    expect(planError(() => planHold('off1', behind, `${FS}@nope`, 'keep')).reason).toBe(`off1: ${FS}@nope does not exist`);
    expect(planError(() => planHold('off1', behind, `${FS}`, 'keep')).reason).toMatch(/^the snapshot: invalid ZFS name/);
  });
});

describe('clone', () => {
  it('under an existing parent, in the same pool; mounted below the parent; -o properties passed as given', () => {
    const p = planClone('off1', behind, `${FS}@20230515-0000`, `${R1}/behind/restore`, { properties: { readonly: 'on' } });
    expect(argv(p)).toEqual([['zfs', 'clone', '-o', 'readonly=on', `${FS}@20230515-0000`, `${R1}/behind/restore`]]);
    expect(p.effects).toContain(`${R1}/behind/restore is mounted at /${R1}/behind/restore.`);
    expect(p.preconditions.map((c) => c.kind)).toEqual(['snapshot-exists', 'dataset-absent', 'dataset-exists']);
  });
  it("on a pair's replica: warned that it blocks a rollback of the replica", () => {
    const pair = scenarioPair('clonechain');
    const p = planClone('ovh3', chain, `${CC}/fs@20230530-2330`, `${CC}/look`, {
      pairs: [{ ...pair, target: { host: 'ovh3', name: { ...pair.target.name!, full: `${CC}/fs`, dataset: `${CC}/fs` } } }],
    });
    expect(p.warnings[0]).toMatch(
      /is a replica \(pair .*\): while the clone exists, a sync that must roll the replica back past 20230530-2330 is blocked by it/,
    );
  });
  it('refused: an existing target, another pool, a missing parent, a bad -o', () => {
    expect(planError(() => planClone('off1', behind, `${FS}@20230515-0000`, FS)).reason).toBe(`off1: ${FS} already exists`);
    expect(planError(() => planClone('off1', behind, `${FS}@20230515-0000`, 'rpool/x')).reason).toMatch(/a clone stays in its snapshot's pool/);
    expect(planError(() => planClone('off1', behind, `${FS}@20230515-0000`, `${R1}/no/such`)).reason).toMatch(
      /no \(the clone's parent\) does not exist; create it first/,
    );
    expect(planError(() => planClone('off1', behind, `${FS}@20230515-0000`, `${R1}/behind/x`, { properties: { 'Bad Name': 'x' } })).reason).toMatch(
      /is not a property name/,
    );
  });
});

describe('promote', () => {
  it("the origin's snapshots up to the clone's origin move; the origin becomes the clone's clone", () => {
    const p = planPromote('ovh3', chain, `${CC}/c1`);
    expect(argv(p)).toEqual([['zfs', 'promote', `${CC}/c1`]]);
    expect(p.effects![0]).toBe(`Moved from ${CC}/fs to ${CC}/c1: @20230501-0000, @20230515-0000.`);
    expect(p.effects![1]).toBe(`${CC}/fs becomes a clone of ${CC}/c1@20230515-0000 and keeps 1 snapshot.`);
    expect(p.preconditions.map((c) => c.kind)).toEqual(['origin', 'snapshot-exists', 'snapshot-exists']);
    // Promoted since the plan was made: the re-check says so.
    const after = fuseListing('clonechain', 'ovh3');
    delete after.datasets.get(`${CC}/c1`)!.object.origin;
    expect(checkPreconditions(p, new Map([['ovh3', after]])).map((c) => c.message)).toEqual([
      `ovh3: ${CC}/c1 is now not a clone (was a clone of ${CC}/fs@20230515-0000)`,
    ]);
  });
  it('a pair of the origin dataset is warned about; a name clash and a non-clone are refused', () => {
    const pair = scenarioPair('clonechain');
    const p = planPromote('ovh3', chain, `${CC}/c1`, {
      pairs: [{ ...pair, target: { host: 'ovh3', name: { ...pair.target.name!, full: `${CC}/fs`, dataset: `${CC}/fs` } } }],
    });
    expect(p.warnings[0]).toMatch(new RegExp(`${CC}/fs is the target of pair .*: its snapshots up to @20230515-0000 move to ${CC}/c1`));
    expect(planError(() => planPromote('ovh3', chain, `${CC}/fs`)).reason).toBe(`ovh3: ${CC}/fs is not a clone (its origin is -); nothing to promote`);
    const clash = fuseListing('clonechain', 'ovh3');
    const x = clash.datasets.get(`${CC}/c1`)!.snapshots[0]!;
    clash.datasets.get(`${CC}/c1`)!.snapshots[0] = { ...x, name: `${CC}/c1@20230501-0000` };
    expect(planError(() => planPromote('ovh3', clash, `${CC}/c1`)).reason).toMatch(/already has snapshot named @20230501-0000, which the promote would move/);
  });
});

const fixture = (name: string, ext = 'stdout') => fs.readFileSync(`test/fixtures/zfs-fuse/${name}.${ext}`, 'utf8');

describe('set property', () => {
  const rows = parsePropertyRows(fixture('get-r-props-tree'));
  const tree = fuseListingOfRows();
  it('lists the descendants that inherit the new value, and those that keep their own', () => {
    const p = planSetProperty(
      'ovh3',
      tree.listing,
      tree.root,
      'compression',
      'on',
      rows.filter((r) => r.property === 'compression'),
    );
    expect(argv(p)).toEqual([['zfs', 'set', 'compression=on', tree.root]]);
    expect(p.effects![0]).toBe(`${tree.root}: compression off (default) -> on (local)`);
    expect(p.effects).toContain(`${tree.root}/a: off -> on (inherited)`);
    expect(p.effects).toContain(`${tree.root}/a/deep: off -> on (inherited)`);
    expect(p.effects!.join('\n')).toMatch(new RegExp(`Kept \\(set on itself\\): ${tree.root}/b=gzip`));
    expect(p.effects!.join('\n')).not.toMatch(/\/b\/under: /);
  });
  it('mountpoint: each inheriting descendant gets its new path', () => {
    const p = planSetProperty(
      'ovh3',
      tree.listing,
      `${tree.root}/a`,
      'mountpoint',
      '/srv/a',
      rows.filter((r) => r.property === 'mountpoint'),
    );
    expect(p.effects).toContain(`${tree.root}/a/deep: /${tree.root}/a/deep -> /srv/a/deep (inherited)`);
  });
  it('the value it already has set is nothing to do; readonly=off on a replica is warned about; bad names refused', () => {
    const same = planSetProperty('ovh3', tree.listing, `${tree.root}/b`, 'compression', 'gzip', rows);
    expect(same.steps).toEqual([]);
    const pair = scenarioPair('clonechain');
    const p = planSetProperty('ovh3', tree.listing, `${tree.root}/a`, 'readonly', 'off', rows, {
      pairs: [{ ...pair, target: { host: 'ovh3', name: { ...pair.target.name!, full: `${tree.root}/a`, dataset: `${tree.root}/a` } } }],
    });
    expect(p.warnings[0]).toMatch(/is a replica \(pair .*\): written to, its next incremental receive must roll it back first/);
    expect(planError(() => planSetProperty('ovh3', tree.listing, tree.root, 'Compression', 'on', rows)).reason).toMatch(/is not a property name/);
    expect(planError(() => planSetProperty('ovh3', tree.listing, tree.root, 'compression', 'on\n', rows)).reason).toMatch(/control characters/);
    expect(propertyNameProblem('zfs-fleet:role')).toBeUndefined();
  });
});

describe('rename', () => {
  const rows = parsePropertyRows(fixture('get-r-props-tree'));
  const tree = fuseListingOfRows();
  const under = (d: string) => rows.filter((r) => r.name === d || r.name.startsWith(d + '/'));
  const at = (d: string) => rows.filter((r) => r.name === d);
  it('under another parent: what moves, the mountpoints that follow, the share the new parent turns on (sharesmb)', () => {
    const p = planRename('ovh3', tree.listing, `${tree.root}/a`, `${tree.root}/b/a`, under(`${tree.root}/a`), at(`${tree.root}/b`));
    expect(argv(p)).toEqual([['zfs', 'rename', `${tree.root}/a`, `${tree.root}/b/a`]]);
    expect(p.effects).toContain(`${tree.root}/a -> ${tree.root}/b/a`);
    expect(p.effects).toContain(`${tree.root}/b/a/deep: mountpoint /${tree.root}/a/deep -> /scratch/elsewhere/b/a/deep (inherited)`);
    expect(p.effects).toContain(`${tree.root}/b/a: sharesmb off -> on (inherited from ${tree.root}/b)`);
    expect(renderPlan(p)).toMatch(/What changes:/);
    expect(planToShell(p).byHost.get('ovh3')).toEqual([`zfs rename ${tree.root}/a ${tree.root}/b/a`]);
  });
  it('the pairs that name the old path are named, with the new path to write', () => {
    const pair = scenarioPair('clonechain');
    const pairs = [{ ...pair, source: { host: 'ovh3', name: { ...pair.source.name!, full: `${tree.root}/a`, dataset: `${tree.root}/a` } } }];
    expect(pairsTouching(pairs, 'ovh3', `${tree.root}/a`)).toHaveLength(1);
    // Below a pair's dataset: only a recursive pair's tree holds it.
    expect(pairsTouching(pairs, 'ovh3', `${tree.root}/a/deep`)).toEqual([]);
    const recursive = [{ ...pairs[0]!, options: { ...pairs[0]!.options, recursive: true } }];
    expect(pairsTouching(recursive, 'ovh3', `${tree.root}/a/deep`).map((x) => x.relation)).toEqual(['above']);
    const p = planRename('ovh3', tree.listing, `${tree.root}/a`, `${tree.root}/a2`, under(`${tree.root}/a`), at(tree.root), { pairs });
    expect(p.warnings[0]).toMatch(
      new RegExp(`names ovh3:${tree.root}/a as its source: after the rename, edit the fleet file to ovh3:${tree.root}/a2 \\(the replica keeps its guids`),
    );
  });
  it("a clone moved into a tree a recursive pair replicates is said (seed 001: staging clones inside the replica's tree kept being unmounted)", () => {
    const pair = scenarioPair('clonechain');
    const recursive = { ...pair, options: { ...pair.options, recursive: true } };
    expect(recursive.target).toMatchObject({ host: 'ovh3', name: { full: `${CC}/fs` } });
    const p = planRename('ovh3', chain, `${CC}/c1`, `${CC}/fs/c1`, [], [], { pairs: [recursive] });
    expect(p.warnings).toContain(
      `${CC}/fs/c1 is a clone (of ${CC}/fs@20230515-0000) and ends inside ${CC}/fs, which pair ${pair.id} replicates recursively (its target): each recursive receive there reaches it, and clones inside a replica's tree get unmounted or block its rollback. Keep clones outside replicated trees.`,
    );
    // Its child is not a clone; a clone that leaves the tree, or a pair that is not recursive, says nothing of it.
    expect(p.warnings.filter((w) => w.includes('is a clone'))).toHaveLength(1);
    expect(planRename('ovh3', chain, `${CC}/c1`, `${CC}/fs/c1`, [], [], { pairs: [pair] }).warnings.some((w) => w.includes('is a clone'))).toBe(false);
  });

  it('refused: onto an existing dataset, below itself, across pools, a missing parent, a pool', () => {
    const r = (to: string, from = `${tree.root}/a`) => planError(() => planRename('ovh3', tree.listing, from, to, [], []));
    expect(r(`${tree.root}/b`).reason).toMatch(/b already exists \(choose another name, or rename or destroy it first\)/);
    expect(r(`${tree.root}/a/x`).reason).toMatch(/a dataset cannot move below itself/);
    expect(r('zfs-hdd/x').reason).toMatch(/a rename stays in the pool/);
    expect(r(`${tree.root}/none/x`).reason).toMatch(/none \(the new parent\) does not exist; create it first/);
    expect(r('rpool2', 'rpool').reason).toMatch(/a pool's root dataset is not renamed/);
  });
});

/** The recorded tree (scratch/tree on ovh3): its listing, as the listing command reads it, and its root. */
function fuseListingOfRows() {
  const cmd = fixture('list-props-tree', 'cmd').trim();
  const listing = buildListing('ovh3', capabilities('ovh3'), [], parseZfsGetTriples(fixture('list-props-tree'), cmd));
  return { root: 'scratch/tree', listing };
}
