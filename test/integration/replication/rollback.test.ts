/** Rollback plans against real zfs-fuse: the preview lists exactly what ZFS destroys. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRollback } from '../../../src/core/replication/rollback.js';
import { labFleet, ssh } from '../lab.js';
import { DST, datasetNames, destroyRoot, makeSource, q, randomRoot, sh, snapshotNames } from './scenarios.js';
import { runPlan } from './run.js';

const ROOT = `rpool/${randomRoot()}`;
const fleet = labFleet([DST]);
const SNAPS = ['a', 'b', 'c', 'd'];

beforeAll(async () => {
  sh(DST, `zfs create ${q(ROOT)}`);
  // plain: fs@a..d
  await makeSource(`${ROOT}/plain`, SNAPS, { host: DST });
  // chained clones: fs@a..d; c1 = clone of fs@c with a child and a snapshot @x (recursive); c2 = clone of c1@x
  await makeSource(`${ROOT}/fs`, SNAPS, { host: DST });
  sh(
    DST,
    [
      `zfs clone ${q(`${ROOT}/fs@c`)} ${q(`${ROOT}/c1`)}`,
      `zfs create ${q(`${ROOT}/c1/child`)}`,
      `zfs snapshot -r ${q(`${ROOT}/c1@x`)}`,
      `zfs clone ${q(`${ROOT}/c1@x`)} ${q(`${ROOT}/c2 with space`)}`,
    ].join('\n'),
  );
});

afterAll(async () => {
  await fleet.dispose();
  await destroyRoot(DST, ROOT);
});

function state(): Set<string> {
  return new Set([...snapshotNames(DST, ROOT), ...datasetNames(DST, ROOT)]);
}

function destroyedBy(before: Set<string>, after: Set<string>): string[] {
  return [...before].filter((n) => !after.has(n)).sort();
}

describe('rollback on the lab', () => {
  it('destroys exactly the snapshots newer than the target, as previewed', async () => {
    const plan = planRollback(DST, await fleet.host(DST).refresh(), `${ROOT}/plain@b`);
    expect(plan.blockedBy).toBeUndefined();
    expect(plan.steps.map((s) => (s.type === 'command' ? s.argv : []))).toEqual([['zfs', 'rollback', '-r', `${ROOT}/plain@b`]]);
    const before = state();
    await runPlan(fleet, plan);
    const after = state();
    expect(destroyedBy(before, after)).toEqual(plan.destroys.snapshots.map((s) => s.name).sort());
    expect(destroyedBy(before, after)).toEqual([`${ROOT}/plain@c`, `${ROOT}/plain@d`]);
    expect(plan.destroys.clones).toEqual([]);
  });

  it('is blocked by a clone of a newer snapshot, exactly where zfs refuses', async () => {
    const plan = planRollback(DST, await fleet.host(DST).refresh(), `${ROOT}/fs@b`);
    expect(plan.steps).toEqual([]);
    expect(plan.blockedBy?.clones.map((c) => c.name)).toEqual([`${ROOT}/c1`]);
    expect(plan.alternatives).toEqual(['rebase']);
    // what -R would take: the clone, its child, the clone of its snapshot, and their snapshots
    expect(plan.blockedBy?.withDestroyClones?.clones.map((c) => c.name).sort()).toEqual([`${ROOT}/c1`, `${ROOT}/c2 with space`]);
    expect(plan.blockedBy?.withDestroyClones?.datasets.map((c) => c.name)).toEqual([`${ROOT}/c1/child`]);
    // zfs agrees: -r alone fails because of the clone
    const out = ssh(DST, `zfs rollback -r ${q(`${ROOT}/fs@b`)} 2>&1 || true`);
    expect(out).toMatch(/clones of previous snapshots exist|dependent clones|busy/);
    expect(snapshotNames(DST, `${ROOT}/fs`)).toContain(`${ROOT}/fs@d`);
  });

  it('with destroyClones, destroys exactly the listed clones, datasets and snapshots', async () => {
    const plan = planRollback(DST, await fleet.host(DST).refresh(), `${ROOT}/fs@b`, { destroyClones: true });
    // explicit steps, the clone of the clone's snapshot first; no -R
    expect(plan.steps.map((s) => (s.type === 'command' ? s.argv : []))).toEqual([
      ['zfs', 'destroy', '-r', `${ROOT}/c2 with space`],
      ['zfs', 'destroy', '-r', `${ROOT}/c1`],
      ['zfs', 'rollback', '-r', `${ROOT}/fs@b`],
    ]);
    const before = state();
    await runPlan(fleet, plan);
    const after = state();
    const previewed = [...plan.destroys.snapshots, ...plan.destroys.clones, ...plan.destroys.datasets].map((o) => o.name).sort();
    expect(destroyedBy(before, after)).toEqual(previewed);
    expect(previewed).toEqual(
      [`${ROOT}/fs@c`, `${ROOT}/fs@d`, `${ROOT}/c1`, `${ROOT}/c1@x`, `${ROOT}/c1/child`, `${ROOT}/c1/child@x`, `${ROOT}/c2 with space`].sort(),
    );
  });
});
