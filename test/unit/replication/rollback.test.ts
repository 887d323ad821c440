/** Rollback plans from recorded listings. */
import { describe, expect, it } from 'vitest';
import { dependants, planRollback } from '../../../src/core/replication/rollback.js';
import { PlanError } from '../../../src/core/replication/plan.js';
import { R2, fuseListing, openzfsListing } from './fixtures.js';

const chain = fuseListing('clonechain', 'ovh3');
const CC = `${R2}/clonechain`;

describe('planRollback', () => {
  it('to the newest snapshot: no -r, nothing destroyed, changes discarded (unknown on zfs-fuse)', () => {
    const p = planRollback('ovh3', chain, `${CC}/fs@20230530-2330`);
    expect(p.steps.map((s) => s.type === 'command' && s.argv)).toEqual([['zfs', 'rollback', `${CC}/fs@20230530-2330`]]);
    expect(p.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
    expect(p.warnings.join('\n')).toContain('if any: this host cannot tell');
  });

  it('lists exactly the newer snapshots, by createtxg', () => {
    const seed = fuseListing('seed000', 'ovh3');
    // @20230515-0000 has a clone: blocked; so roll the clone-free behind replica instead
    const behind = fuseListing('behind', 'ovh3');
    const p = planRollback('ovh3', behind, `${R2}/behind/fs@20230501-0000`);
    expect(p.destroys.snapshots.map((s) => s.name)).toEqual([`${R2}/behind/fs@20230515-0000`]);
    expect(p.steps[0]!.type === 'command' && p.steps[0]!.argv).toEqual(['zfs', 'rollback', '-r', `${R2}/behind/fs@20230501-0000`]);
    expect(p.preconditions).toContainEqual({ kind: 'no-clones', host: 'ovh3', snapshot: `${R2}/behind/fs@20230515-0000` });
    expect(planRollback('ovh3', seed, `${R2}/seed000/products@20230501-0000`).blockedBy).toBeDefined();
  });

  it('blocked by a clone: says which, what -R would destroy (recursively), and offers the rebase', () => {
    const p = planRollback('ovh3', chain, `${CC}/fs@20230501-0000`);
    expect(p.steps).toEqual([]);
    expect(p.blockedBy?.clones.map((c) => c.name)).toEqual([`${CC}/c1`]);
    expect(p.alternatives).toEqual(['rebase']);
    const r = p.blockedBy!.withDestroyClones!;
    expect(r.clones.map((c) => c.name)).toEqual([`${CC}/c1`, `${CC}/c2`]);
    expect(r.datasets.map((c) => c.name)).toEqual([`${CC}/c1/child`]);
    expect(r.snapshots.map((c) => c.name)).toEqual([`${CC}/c1@x`, `${CC}/c1/child@x`]);
    expect(p.summary).toContain('destroyClones');
  });

  it('destroyClones: explicit destroy steps (dependants of dependants first), then rollback -r; every destroyed object listed', () => {
    const p = planRollback('ovh3', chain, `${CC}/fs@20230501-0000`, { destroyClones: true });
    expect(p.steps.map((s) => s.type === 'command' && s.argv)).toEqual([
      ['zfs', 'destroy', '-r', `${CC}/c2`],
      ['zfs', 'destroy', '-r', `${CC}/c1`],
      ['zfs', 'rollback', '-r', `${CC}/fs@20230501-0000`],
    ]);
    expect(p.destroys.clones.map((c) => c.name).sort()).toEqual([`${CC}/c1`, `${CC}/c2`]);
    expect(p.destroys.datasets.map((c) => c.name)).toEqual([`${CC}/c1/child`]);
    expect(p.destroys.snapshots.map((c) => c.name).sort()).toEqual(
      [`${CC}/c1/child@x`, `${CC}/c1@x`, `${CC}/fs@20230515-0000`, `${CC}/fs@20230530-2330`].sort(),
    );
    expect(p.steps.every((s) => s.confirm)).toBe(true);
    // the clone sets are preconditions: a new clone in the meantime invalidates the plan
    expect(p.preconditions).toContainEqual({ kind: 'clones', host: 'ovh3', snapshot: `${CC}/fs@20230515-0000`, clones: [`${CC}/c1`] });
    expect(p.preconditions).toContainEqual({ kind: 'clones', host: 'ovh3', snapshot: `${CC}/c1@x`, clones: [`${CC}/c2`] });
  });

  it('dependants of a snapshot with no clone: nothing', () => {
    expect(dependants('ovh3', chain, [`${CC}/fs@20230501-0000`])).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
  });

  it('held snapshots are warned about (OpenZFS: tank/off/products@20230515-0000 holds operator-sync)', () => {
    const tank = openzfsListing('root_zfs_list_tank', 'zfsvm');
    const p = planRollback('zfsvm', tank, 'tank/off/products@20230501-0000');
    expect(p.warnings.join('\n')).toContain('tank/off/products@20230515-0000 has 1 user hold');
    // written > 0 on OpenZFS: the bytes are said
    expect(p.warnings.join('\n')).toMatch(/\d+ bytes written to tank\/off\/products since its newest snapshot are discarded/);
  });

  it('errors: not a snapshot, unknown snapshot', () => {
    expect(() => planRollback('ovh3', chain, `${CC}/fs`)).toThrow(PlanError);
    expect(() => planRollback('ovh3', chain, `${CC}/fs@nope`)).toThrow(/does not exist/);
  });
});
