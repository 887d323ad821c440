/**
 * `zfs rollback -r` on OpenZFS destroys the bookmarks newer than its snapshot, not only the
 * snapshots: the plan lists them, warns when one is a sync's `#zfs-fleet-*` base, and what ZFS
 * destroys is exactly what the plan listed. Dataset tank/it13-rb, destroyed in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executePlan } from '../../src/core/execute/executor.js';
import { planRollback } from '../../src/core/replication/rollback.js';
import { ssh, sshTry, testLogger, vmFleet } from './vm.js';

const fleet = vmFleet(['zfsvm']);
const DS = 'tank/it13-rb';
const objects = () => ssh('zfsvm', `zfs list -H -o name -t snapshot,bookmark -r ${DS}`).split('\n').filter(Boolean).sort();

beforeAll(() => {
  sshTry('zfsvm', `zfs destroy -r ${DS}`);
  ssh(
    'zfsvm',
    `zfs create ${DS} && for s in a b c; do zfs snapshot ${DS}@$s; done && zfs bookmark ${DS}@a ${DS}#a-mark && zfs bookmark ${DS}@c ${DS}#zfs-fleet-c && zfs bookmark ${DS}@b ${DS}#b-mark`,
  );
});

afterAll(async () => {
  sshTry('zfsvm', `zfs destroy -r ${DS}`);
  await fleet.dispose();
});

describe('rollback -r and bookmarks (OpenZFS 2.3)', () => {
  it('lists the newer bookmarks it destroys, warns about a sync base, and ZFS destroys exactly those', async () => {
    const plan = planRollback('zfsvm', await fleet.host('zfsvm').refresh(), `${DS}@a`);
    expect(plan.destroys.snapshots.map((o) => o.name).sort()).toEqual([`${DS}@b`, `${DS}@c`]);
    expect(plan.destroys.bookmarks.map((o) => o.name).sort()).toEqual([`${DS}#b-mark`, `${DS}#zfs-fleet-c`]);
    expect(plan.warnings.join('\n')).toMatch(/destroys tank\/it13-rb#zfs-fleet-c, the bookmark a sync keeps as its incremental base/);
    const before = objects();
    const r = await executePlan(
      plan,
      { runner: (h) => fleet.host(h).runner, freshListing: (h) => fleet.host(h).refresh(), logger: testLogger },
      { confirmStep: async () => true },
    );
    expect(r.outcome, r.error).toBe('ok');
    const after = objects();
    const destroyed = before.filter((n) => !after.includes(n)).sort();
    expect(destroyed).toEqual([...plan.destroys.snapshots, ...plan.destroys.bookmarks].map((o) => o.name).sort());
    expect(after).toEqual([`${DS}#a-mark`, `${DS}@a`]);
  });
});
