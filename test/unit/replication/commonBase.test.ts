/** The common base, from listings recorded on the lab (zfs-fuse) and the OpenZFS VM. */
import { describe, expect, it } from 'vitest';
import { commonBase, compareSnapshots, oldestFirst, snapName } from '../../../src/core/replication/commonBase.js';
import { parseZfsGetTriples } from '../../../src/core/zfs/parse.js';
import { R1, R2, fixture, fuseListing, meta, openzfsListing, openzfsListingWithout } from './fixtures.js';

function cb(scenario: string, name = 'fs') {
  return commonBase(fuseListing(scenario, 'off1'), `${R1}/${scenario}/${name}`, fuseListing(scenario, 'ovh3'), `${R2}/${scenario}/${name}`);
}
const short = (list: { name: string }[]) => list.map((s) => snapName(s.name));

describe('commonBase (zfs-fuse scenarios)', () => {
  it('in sync: every snapshot matched by guid; the newest is the base; nothing newer on either side', () => {
    const c = cb('insync');
    expect(c.matched.map((m) => snapName(m.source.name))).toEqual(['20230501-0000', '20230515-0000', '20230530-2330']);
    for (const m of c.matched) expect(m.source.guid).toBe(m.target.guid);
    expect(snapName(c.base!.source.name)).toBe('20230530-2330');
    expect(c.incremental?.kind).toBe('snapshot');
    expect(c.newerOnSource).toEqual([]);
    expect(c.newerOnTarget).toEqual([]);
    expect(c.nameClashes).toEqual([]);
  });

  it('behind by 2: the sync sends the two newer source snapshots, oldest first', () => {
    const c = cb('behind');
    expect(snapName(c.base!.target.name)).toBe('20230515-0000');
    expect(short(c.newerOnSource)).toEqual(['20230530-2330', '20230608-1130']);
    expect(c.newerOnTarget).toEqual([]);
  });

  it('a snapshot taken on the target is newer than the base (what a rollback destroys)', () => {
    const c = cb('newer');
    expect(snapName(c.base!.source.name)).toBe('20230515-0000');
    expect(short(c.newerOnTarget)).toEqual(['taken-on-target']);
  });

  it('pruned on the source: no guid in common, so no base, although the target has snapshots', () => {
    const c = cb('pruned');
    expect(c.matched).toEqual([]);
    expect(c.base).toBeUndefined();
    expect(c.incremental).toBeUndefined();
    expect(short(c.targetSnapshots)).toEqual(['20230401-0000', '20230415-0000']);
    expect(short(c.newerOnSource)).toEqual(['20230501-0000', '20230515-0000']);
  });

  it('same names, different guids: never a match, reported as clashes', () => {
    const c = cb('unrelated');
    expect(c.matched).toEqual([]);
    expect(c.nameClashes.map((x) => x.name)).toEqual(['20230501-0000', '20230515-0000']);
    for (const x of c.nameClashes) expect(x.source.guid).not.toBe(x.target.guid);
  });

  it('never sent: the target is absent, everything is newer on the source', () => {
    const c = cb('neversent');
    expect(c.targetSnapshots).toEqual([]);
    expect(c.base).toBeUndefined();
    expect(short(c.newerOnSource)).toEqual(['20230501-0000', '20230515-0000']);
  });

  it('names with spaces', () => {
    const c = cb('spaces', 'my data');
    expect(c.base!.source.name).toBe(`${R1}/spaces/my data@snap one`);
    expect(short(c.newerOnSource)).toEqual(['snap two']);
  });

  it('seed 000: the last received snapshots were pruned on the source; the base falls back to @20230501-0000', () => {
    const c = cb('seed000', 'products');
    expect(short(c.matched.map((m) => m.source))).toEqual(['20230501-0000']);
    expect(snapName(c.base!.target.name)).toBe('20230501-0000');
    expect(short(c.newerOnTarget)).toEqual(['20230515-0000', '20230530-2330']);
    expect(short(c.newerOnSource)).toEqual(['20230608-1130']);
  });

  it('orders by createtxg, whatever the listing order; by creation time where createtxg is absent', () => {
    const l = fuseListing('behind', 'off1');
    const snaps = l.datasets.get(`${R1}/behind/fs`)!.snapshots;
    const shuffled = [snaps[2]!, snaps[0]!, snaps[3]!, snaps[1]!];
    expect(short(oldestFirst(shuffled, false))).toEqual(['20230501-0000', '20230515-0000', '20230530-2330', '20230608-1130']);
    // the same recorded output without its createtxg lines (what a host without createtxg prints)
    const file = 'behind.off1.txt';
    const noTxg = parseZfsGetTriples(
      fixture(file)
        .split('\n')
        .filter((x) => !x.includes('\tcreatetxg\t'))
        .join('\n'),
      meta.commands[file],
    ).filter((o) => o.type === 'snapshot');
    expect(noTxg.every((o) => o.createtxg === undefined)).toBe(true);
    // a second apart, so creation orders them; reversed input, same answer
    expect(short(oldestFirst([...noTxg].reverse(), false))).toEqual(['20230501-0000', '20230515-0000', '20230530-2330', '20230608-1130']);
  });
});

describe('commonBase (OpenZFS 2.3)', () => {
  const tank = openzfsListing('root_zfs_list_tank', 'zfsvm');
  const backup = openzfsListing('operator_zfs_list_backup', 'zfsvm');

  it('matches the replica by guid across pools, ignoring the snapshot of another dataset with equal guids elsewhere', () => {
    const c = commonBase(tank, 'tank/off/products', backup, 'backup/off/products');
    expect(short(c.matched.map((m) => m.source))).toEqual(['20230501-0000', '20230515-0000', '20230530-2330']);
    expect(c.bookmark).toBeUndefined(); // the bookmark's snapshot still exists: the snapshot is the base
    expect(c.incremental?.kind).toBe('snapshot');
  });

  it('a bookmark is the incremental source when its snapshot was pruned on the source', () => {
    // tank as it would be after pruning @20230501-0000: the bookmark #20230501-0000 stays
    const pruned = openzfsListingWithout('root_zfs_list_tank', 'zfsvm', (n) => n === 'tank/off/products@20230501-0000');
    const e = pruned.datasets.get('tank/off/products')!;
    expect(e.bookmarks.map((b) => b.name)).toEqual(['tank/off/products#20230501-0000']);
    // backup/pull/products has only @20230501-0000
    const c = compareSnapshots(
      { dataset: 'tank/off/products', snapshots: e.snapshots, bookmarks: e.bookmarks },
      { dataset: 'backup/pull/products', snapshots: backup.datasets.get('backup/pull/products')!.snapshots },
    );
    expect(c.base).toBeUndefined();
    expect(c.incremental?.kind).toBe('bookmark');
    expect(c.incremental?.source.name).toBe('tank/off/products#20230501-0000');
    expect(c.incremental?.target.name).toBe('backup/pull/products@20230501-0000');
    expect(short(c.newerOnSource)).toEqual(['20230515-0000', '20230530-2330']);
  });
});
