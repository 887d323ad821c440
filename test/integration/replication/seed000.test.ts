/**
 * Seed 000 on the lab, end to end: the replica received up to @20230530-2330; the source then took
 * @20230608-1130 and pruned @20230515-0000 and @20230530-2330, so the newest common snapshot is
 * @20230501-0000; the replica was written to; a staging clone of @20230515-0000 blocks the
 * rollback to @20230501-0000; a `zfs recv` has stalled on the replica. diagnose() explains it from
 * the listings and `ps`, and its fix plan, run step by step through the product's runners, ends
 * with the pair in sync, the same files on both sides, and the clone's data kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePair } from '../../../src/core/fleet/pairs.js';
import { localPropertiesCommand } from '../../../src/core/replication/cloneRebase.js';
import { diagnose } from '../../../src/core/replication/diagnose.js';
import { renderPlan } from '../../../src/core/replication/plan.js';
import { mountUsersCommand, processListCommand } from '../../../src/core/replication/processes.js';
import { pairState } from '../../../src/core/replication/state.js';
import { labFleet, ssh } from '../lab.js';
import { DST, SNAPS, SRC, buildSeed000, destroyRoot, md5Tree, mountpoint, q, randomRoot, snapshotGuids, startStalledRecv } from './scenarios.js';
import { listings, runPlan } from './run.js';

const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const SRC_DS = `${R1}/products`;
const DST_DS = `${R2}/products`;
const CLONE = `${R2}/clones/products`;
const DATE = '20230610-0900';
const COPY = `${CLONE}-pre-rebase-${DATE}`;
const [A, B, C, D] = SNAPS as [string, string, string, string];
const fleet = labFleet([SRC, DST]);
let stalled: ReturnType<typeof startStalledRecv> | undefined;
let cloneFiles: Map<string, string>;

beforeAll(async () => {
  ({ stalled, cloneFiles } = await buildSeed000({
    r1: R1,
    r2: R2,
    srcDs: SRC_DS,
    dstDs: DST_DS,
    clone: CLONE,
    cloneProperties: ['atime=off', 'org.zfs-fleet:purpose=staging over NFS'],
  }));
});

afterAll(async () => {
  await stalled?.stop();
  await fleet.dispose();
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
});

describe('seed 000 on the lab', () => {
  it('diagnose explains the chain of causes and its fix plan repairs the pair', async () => {
    const pair = parsePair({ source: `${SRC}:${SRC_DS}`, target: `${DST}:${DST_DS}` });
    const ls = await listings(fleet, [SRC, DST]);
    const [srcPs, dstPs] = await Promise.all([fleet.host(SRC).exec(processListCommand()), fleet.host(DST).exec(processListCommand())]);
    const props = await fleet.host(DST).exec(localPropertiesCommand('zfs', CLONE));
    expect(props).toEqual([
      { property: 'atime', value: 'off' },
      { property: 'org.zfs-fleet:purpose', value: 'staging over NFS' },
    ]);
    const users = await fleet.host(DST).exec(mountUsersCommand(mountpoint(DST, CLONE)));
    expect(users.tool).toBe('fuser');

    const d = diagnose(pair, ls.get(SRC)!, ls.get(DST)!, {
      processes: new Map([
        [SRC, srcPs],
        [DST, dstPs],
      ]),
      cloneProperties: new Map([[CLONE, props]]),
      mountUsers: new Map([[CLONE, users]]),
      stalledAfterSeconds: 1,
      date: DATE,
    });
    // the chain, in seed 000's order
    expect(d.findings.map((f) => f.kind)).toEqual([
      'stalled-process',
      'base-pruned',
      'target-modified-unknown',
      'clone-blocks-rollback',
      'retention',
      'behind',
    ]);
    const stalledFinding = d.findings[0]!;
    expect(stalledFinding.process?.args).toBe(`zfs recv -F ${DST_DS}`);
    expect(d.findings[1]!.snapshots).toEqual([`${DST_DS}@${B}`, `${DST_DS}@${C}`]);
    expect(d.findings[3]!.clone).toBe(CLONE);
    expect(d.needs).toEqual([]);
    const fix = d.fix!;
    expect(fix, d.fixUnavailable).toBeDefined();
    expect(fix.steps.map((s) => s.op)).toEqual(['kill', 'snapshot', 'send', 'destroy', 'clone', 'hold', 'hold', 'rollback', 'send', 'release', 'release']);
    expect(fix.steps.every((s) => s.confirm)).toBe(true);
    expect(fix.destroys.snapshots.map((s) => s.name).sort()).toEqual([`${CLONE}@pre-rebase-${DATE}`, `${DST_DS}@${B}`, `${DST_DS}@${C}`].sort());
    expect(fix.destroys.clones.map((s) => s.name)).toEqual([CLONE]);
    // the base is never destroyed
    expect(fix.destroys.snapshots.map((s) => s.name)).not.toContain(`${DST_DS}@${A}`);
    expect(renderPlan(fix)).toContain(`zfs rollback -r ${DST_DS}@${A}`);

    await runPlan(fleet, fix);

    // the stalled receive is gone
    expect(
      ssh(DST, 'ps -ww -eo args=')
        .split('\n')
        .some((l) => l === `zfs recv -F ${DST_DS}`),
    ).toBe(false);
    // in sync: same snapshots (guids) on both sides
    const src = snapshotGuids(SRC, SRC_DS);
    const dst = snapshotGuids(DST, DST_DS);
    expect([...dst.values()]).toEqual([...src.values()]);
    expect([...dst.keys()]).toEqual([`${DST_DS}@${A}`, `${DST_DS}@${D}`]);
    const after = await listings(fleet, [SRC, DST]);
    expect(pairState(pair, after.get(SRC)!, after.get(DST)!).status).toBe('in-sync');
    // the same files on both sides (the stray file is gone with the rollback)
    const srcFiles = md5Tree(SRC, SRC_DS);
    expect(srcFiles.has('./june.txt')).toBe(true);
    expect(md5Tree(DST, DST_DS)).toEqual(srcFiles);
    // the clone is re-based onto the base, with its local properties; its old data is kept in the copy
    const clone = after.get(DST)!.datasets.get(CLONE)!.object;
    expect(clone.origin).toBe(`${DST_DS}@${A}`);
    expect(
      ssh(DST, `zfs get -H -o value atime,org.zfs-fleet:purpose ${q(CLONE)}`)
        .trim()
        .split('\n'),
    ).toEqual(['off', 'staging over NFS']);
    expect(md5Tree(DST, COPY)).toEqual(cloneFiles);
    expect(cloneFiles.has('./staging only.txt')).toBe(true);
    // An 11-step repair on zfs-fuse: about 30 s on a quiet machine, over 60 s on a loaded 2-core one.
  }, 180_000);
});
