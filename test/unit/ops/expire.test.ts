/** Expire plans from listings recorded on the zfs-fuse lab: the newest N kept, and never a pair's base, a held snapshot or a clone's origin. */
import { describe, expect, it } from 'vitest';
import { planExpire } from '../../../src/core/ops/expire.js';
import { pairBases } from '../../../src/core/replication/baseGuard.js';
import { R1, R2, fuseListing, planError, scenarioPair } from '../replication/fixtures.js';

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
