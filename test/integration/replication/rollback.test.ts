/** Rollback plans against real zfs-fuse: the preview lists exactly what ZFS destroys. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan } from '../../../src/core/execute/executor.js';
import { planRollback } from '../../../src/core/replication/rollback.js';
import { labFleet, ssh, testLogger } from '../lab.js';
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
  // late: fs@a..d and a clone of late@d, for snapshots taken while a step's confirmation is open
  await makeSource(`${ROOT}/late`, SNAPS, { host: DST });
  sh(DST, `zfs clone ${q(`${ROOT}/late@d`)} ${q(`${ROOT}/late clone`)}`);
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

  /** Runs the plan; `whileAsked(stepArgv)` runs while each step's confirmation is open. */
  async function runAsking(plan: ReturnType<typeof planRollback>, whileAsked: (argv: readonly string[]) => void) {
    return executePlan(
      plan,
      { runner: (h) => fleet.host(h).runner, freshListing: (h) => fleet.host(h).refresh(), logger: testLogger },
      {
        confirmStep: async (step) => {
          whileAsked(step.type === 'command' ? step.argv : []);
          return true;
        },
      },
    );
  }

  it('a snapshot taken on the clone while its destroy is being confirmed stops the run: nothing unlisted is destroyed', async () => {
    const plan = planRollback(DST, await fleet.host(DST).refresh(), `${ROOT}/late@b`, { destroyClones: true });
    expect(plan.steps.map((s) => (s.type === 'command' ? s.argv.slice(1, 3) : []))).toEqual([
      ['destroy', '-r'],
      ['rollback', '-r'],
    ]);
    const r = await runAsking(plan, (argv) => {
      if (argv[1] === 'destroy') sh(DST, `zfs snapshot ${q(`${ROOT}/late clone@auto-while-asked`)}`);
    });
    expect(r.outcome).toBe('changed');
    expect(r.changes?.join('\n')).toMatch(/late clone@auto-while-asked is new since the plan was made/);
    expect(snapshotNames(DST, `${ROOT}/late clone`)).toContain(`${ROOT}/late clone@auto-while-asked`);
    expect(snapshotNames(DST, `${ROOT}/late`)).toContain(`${ROOT}/late@d`);
    sh(DST, `zfs destroy ${q(`${ROOT}/late clone@auto-while-asked`)}`);
  });

  it('a snapshot taken while the rollback is being confirmed stops it; re-planned, the rollback lists and destroys it', async () => {
    const plan = planRollback(DST, await fleet.host(DST).refresh(), `${ROOT}/late@b`, { destroyClones: true });
    const r = await runAsking(plan, (argv) => {
      if (argv[1] === 'rollback') sh(DST, `zfs snapshot ${q(`${ROOT}/late@auto-while-asked`)}`);
    });
    expect(r.outcome).toBe('changed');
    expect(r.changes?.join('\n')).toMatch(/late@auto-while-asked is new since the plan was made/);
    expect(snapshotNames(DST, `${ROOT}/late`)).toEqual([
      `${ROOT}/late@a`,
      `${ROOT}/late@auto-while-asked`,
      `${ROOT}/late@b`,
      `${ROOT}/late@c`,
      `${ROOT}/late@d`,
    ]);
    const again = planRollback(DST, await fleet.host(DST).refresh(), `${ROOT}/late@b`);
    expect(again.destroys.snapshots.map((x) => x.name)).toContain(`${ROOT}/late@auto-while-asked`);
    expect((await runAsking(again, () => {})).outcome).toBe('ok');
    expect(snapshotNames(DST, `${ROOT}/late`)).toEqual([`${ROOT}/late@a`, `${ROOT}/late@b`]);
  });
});
