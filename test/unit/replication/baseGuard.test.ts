/** The newest common snapshot of a pair, destroyed by a rollback on either side (recorded zfs-fuse listings of the `behind` scenario). */
import { describe, expect, it } from 'vitest';
import { basesLost } from '../../../src/core/replication/baseGuard.js';
import { planRollback } from '../../../src/core/replication/rollback.js';
import { R1, R2, fuseListing, scenarioPair } from './fixtures.js';

const src = fuseListing('behind', 'off1');
const dst = fuseListing('behind', 'ovh3');
const listing = (h: string) => (h === 'off1' ? src : h === 'ovh3' ? dst : undefined);
const pair = scenarioPair('behind');

describe('basesLost', () => {
  it('a rollback of the target past the base: names the pair, the base, and the older base the next sync starts from', () => {
    // base is @20230515-0000 (newest on both); rolling the target back to @20230501-0000 destroys it there.
    const plan = planRollback('ovh3', dst, `${R2}/behind/fs@20230501-0000`);
    const [loss, ...rest] = basesLost(plan.destroys, [pair], listing);
    expect(rest).toEqual([]);
    expect(loss).toMatchObject({
      host: 'ovh3',
      dataset: `${R2}/behind/fs`,
      destroyed: `${R2}/behind/fs@20230515-0000`,
      nextBase: `${R1}/behind/fs@20230501-0000`,
    });
    expect(loss!.message).toMatch(
      /newest common snapshot of the pair off1:.* -> ovh3:.*: the next sync starts from the older common snapshot .*@20230501-0000/,
    );
  });

  it('a rollback of the source that leaves no common snapshot: a full send', () => {
    const plan = planRollback('off1', src, `${R1}/behind/fs@20230501-0000`);
    const fake = { ...plan.destroys, snapshots: [...plan.destroys.snapshots, { host: 'off1', name: `${R1}/behind/fs@20230501-0000` }] };
    const [loss] = basesLost(fake, [pair], listing);
    expect(loss!.nextBase).toBeUndefined();
    expect(loss!.message).toMatch(/no common snapshot is left: the next sync is a full send/);
  });

  it('nothing when the base survives, the pair is elsewhere, or a host is not listed', () => {
    expect(basesLost(planRollback('off1', src, `${R1}/behind/fs@20230515-0000`).destroys, [pair], listing)).toEqual([]);
    const plan = planRollback('ovh3', dst, `${R2}/behind/fs@20230501-0000`);
    expect(basesLost(plan.destroys, [scenarioPair('insync')], listing)).toEqual([]);
    expect(basesLost(plan.destroys, [pair], (h) => (h === 'ovh3' ? dst : undefined))).toEqual([]);
  });
});
