/** Expire plans from listings recorded on the zfs-fuse lab: the newest N kept, and never a pair's base, a held snapshot or a clone's origin. */
import { describe, expect, it } from 'vitest';
import { buildListing } from '../../../src/core/fleet/listing.js';
import { expireBookmarks, planExpire } from '../../../src/core/ops/expire.js';
import { at, dailies, policy } from '../retention/sanoidSnapshots.js';
import { pairBases } from '../../../src/core/replication/baseGuard.js';
import { R1, R2, capabilities, fuseListing, openzfsListing, pair as makePair, planError, scenarioPair } from '../replication/fixtures.js';

const src = fuseListing('behind', 'off1');
const dst = fuseListing('behind', 'ovh3');
const FS = `${R1}/behind/fs`;
const pair = scenarioPair('behind');
const bases = pairBases([pair], (h) => (h === 'off1' ? src : h === 'ovh3' ? dst : undefined));
const shortNames = (p: { destroys: { snapshots: { name: string }[] } }) => p.destroys.snapshots.map((s) => s.name.slice(s.name.indexOf('@')));

describe('planExpire', () => {
  it("keeps the newest N and the pair's newest common snapshot on both sides; destroys the rest, each re-checked", () => {
    // The replica has @20230501-0000 and @20230515-0000: the base is @20230515-0000.
    expect([...bases.keys()].map((k) => k.replace('\0', ' '))).toEqual([`off1 ${FS}@20230515-0000`, `ovh3 ${R2}/behind/fs@20230515-0000`]);
    const p = planExpire('off1', src, FS, 1, bases);
    expect(shortNames(p)).toEqual(['@20230501-0000', '@20230530-2330']);
    expect(p.kind).toBe('expire');
    expect(p.effects).toEqual([
      `Kept: @20230515-0000: the newest common snapshot of the pair ${pair.source.host}:${FS} -> ${pair.target.host}:${R2}/behind/fs`,
    ]);
    expect(p.preconditions.filter((c) => c.beforeStep === 's2').map((c) => c.kind)).toEqual(['snapshot-exists', 'no-clones']);
    // On the replica: its base is kept too.
    expect(shortNames(planExpire('ovh3', dst, `${R2}/behind/fs`, 0, bases))).toEqual(['@20230501-0000']);
  });

  it('a held snapshot and a clone origin are kept with the reason; nothing left to expire is a plan without steps', () => {
    const held = fuseListing('behind', 'off1');
    held.datasets.get(FS)!.snapshots.find((s) => s.name.endsWith('@20230501-0000'))!.userrefs = 2;
    const p = planExpire('off1', held, FS, 1, bases);
    expect(shortNames(p)).toEqual(['@20230530-2330']);
    expect(p.effects).toContain('Kept: @20230501-0000: held (2 user holds)');
    const chain = fuseListing('clonechain', 'ovh3');
    const c = planExpire('ovh3', chain, `${R2}/clonechain/fs`, 1, new Map());
    expect(shortNames(c)).toEqual(['@20230501-0000']);
    expect(c.effects).toEqual([`Kept: @20230515-0000: the origin of ${R2}/clonechain/c1`]);
    const none = planExpire('off1', src, FS, 4, bases);
    expect(none.steps).toEqual([]);
    expect(none.summary).toMatch(/nothing to expire \(4 snapshots, the newest 4 kept\)/);
    expect(planError(() => planExpire('off1', src, `${FS}x`, 1, bases)).reason).toBe(`off1: ${FS}x does not exist`);
  });
});

describe('expire and the sync bookmarks', () => {
  it('only #zfs-fleet-* bookmarks are ever destroyed: a bookmark of its own (recorded on OpenZFS 2.3) is left', () => {
    const tank = openzfsListing('root_zfs_list_tank', 'zfsvm');
    const ds = 'tank/off/products';
    const p = makePair(`zfsvm:${ds}`, 'zfsvm:backup/off/products');
    const p1 = planExpire('zfsvm', tank, ds, 1, new Map(), {}, { pairs: [p], listing: () => tank });
    expect(tank.datasets.get(ds)!.bookmarks.map((b) => b.name)).toEqual([`${ds}#20230501-0000`]);
    expect(p1.destroys.bookmarks).toEqual([]);
    expect(expireBookmarks('zfsvm', tank, ds, { pairs: [p], listing: () => tank })).toEqual({ doomed: [], kept: new Map() });
  });
});

describe("expire by the fleet file's retention policy", () => {
  it("destroys what sanoid's next run would prune under the policy, never a pair's base; keeps the rest with why", () => {
    const ds = 'tank/data';
    const snaps = dailies(ds, '2026-11-01T00:00:00Z', 10);
    const objects = [{ name: ds, type: 'filesystem' as const, guid: '1' }, ...snaps.map((x) => ({ ...x, type: 'snapshot' as const }))];
    const l = buildListing('h', capabilities('off1'), [], objects);
    const rule = { policy: policy({ daily: 3 }), dataset: `h:${ds}`, now: at('2026-11-10T12:00:00Z') };
    // The pair's base is the 4th daily (the replica has the first 4).
    const base = new Map([[`h\0${snaps[3]!.name}`, { label: 'h:tank/data -> r:backup/data' }]]);
    const p = planExpire('h', l, ds, rule, base);
    expect(p.destroys.snapshots.map((x) => x.name)).toEqual([0, 1, 2, 4, 5, 6].map((i) => snaps[i]!.name));
    expect(p.summary).toMatch(/keep what the policy of h:tank\/data keeps/);
    expect(p.effects).toEqual([`Kept: @${snaps[3]!.name.split('@')[1]}: the newest common snapshot of the pair h:tank/data -> r:backup/data`]);
    expect(planExpire('h', l, ds, { ...rule, policy: policy({ daily: 30 }) }, base).steps).toEqual([]);
  });
});
