/** Sync plans run for real between two lab hosts (relay, push, pull): the target ends with the source's snapshots, same guids. */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePair } from '../../../src/core/fleet/pairs.js';
import { planToShell } from '../../../src/core/replication/plan.js';
import { pairState } from '../../../src/core/replication/state.js';
import { planSync } from '../../../src/core/replication/sync.js';
import { executePlan } from '../../../src/core/execute/executor.js';
import { lab, labFleet, ssh, testLogger } from '../lab.js';
import { DST, SNAPS, SRC, destroyRoot, makeSource, q, randomRoot, replicate, sh, snapshotGuids } from './scenarios.js';
import { listings, runPlan } from './run.js';

const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const fleet = labFleet([SRC, DST]);
const cfg = lab().sshConfig;

beforeAll(async () => {
  sh(SRC, `zfs create ${q(R1)}`);
  sh(DST, `zfs create ${q(R2)}`);
  await makeSource(`${R1}/behind`, SNAPS);
  replicate(`${R1}/behind`, `${R2}/behind`, SNAPS[0]!, SNAPS[1]!);
  await makeSource(`${R1}/my data`, ['snap one', 'snap two']);
  replicate(`${R1}/my data`, `${R2}/my data`, 'snap one');
  await makeSource(`${R1}/fresh`, SNAPS.slice(0, 3));
  await makeSource(`${R1}/typed`, SNAPS.slice(0, 3));
  replicate(`${R1}/typed`, `${R2}/typed`, SNAPS[0]!);
});

afterAll(async () => {
  await fleet.dispose();
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
});

function expectSameSnapshots(src: string, dst: string): void {
  const s = snapshotGuids(SRC, src);
  const d = snapshotGuids(DST, dst);
  expect([...d.values()]).toEqual([...s.values()]);
  expect([...d.keys()].map((n) => n.slice(n.indexOf('@')))).toEqual([...s.keys()].map((n) => n.slice(n.indexOf('@'))));
}

describe('sync plans on the lab', () => {
  it('relay: an incremental -I sync brings a target that is behind by 2 in sync', async () => {
    const pair = parsePair({ source: `${SRC}:${R1}/behind`, target: `${DST}:${R2}/behind` });
    const ls = await listings(fleet, [SRC, DST]);
    expect(pairState(pair, ls.get(SRC)!, ls.get(DST)!).behind?.count).toBe(2);
    const plan = planSync(pair, ls.get(SRC)!, ls.get(DST)!);
    expect(plan.destroys).toEqual({ snapshots: [], bookmarks: [], clones: [], datasets: [] });
    expect(plan.steps.map((s) => s.op)).toEqual(['hold', 'hold', 'send', 'release', 'release']);
    await runPlan(fleet, plan);
    expectSameSnapshots(`${R1}/behind`, `${R2}/behind`);
    const after = await listings(fleet, [SRC, DST]);
    expect(pairState(pair, after.get(SRC)!, after.get(DST)!).status).toBe('in-sync');
    // the holds were released on both sides
    expect(
      after
        .get(SRC)!
        .datasets.get(`${R1}/behind`)!
        .snapshots.every((s) => s.userrefs === 0),
    ).toBe(true);
    expect(
      after
        .get(DST)!
        .datasets.get(`${R2}/behind`)!
        .snapshots.every((s) => s.userrefs === 0),
    ).toBe(true);
  });

  it('push: names with spaces survive both shell layers (sh -c on the source, ssh to the target), with a new snapshot', async () => {
    const pair = parsePair({ source: `${SRC}:${R1}/my data`, target: `${DST}:${R2}/my data`, route: 'push' });
    const ls = await listings(fleet, [SRC, DST]);
    const plan = planSync(pair, ls.get(SRC)!, ls.get(DST)!, {
      newSnapshotName: 'snap three:30',
      route: { sshFromSource: ['ssh', '-F', cfg, '-o', 'BatchMode=yes', DST] },
    });
    const send = plan.steps.find((s) => s.op === 'send')!;
    expect(send.type === 'pipe' && send.exec?.host).toBe(SRC);
    expect(plan.steps[0]!.op).toBe('snapshot');
    await runPlan(fleet, plan);
    expectSameSnapshots(`${R1}/my data`, `${R2}/my data`);
    expect([...snapshotGuids(DST, `${R2}/my data`).keys()]).toEqual([`${R2}/my data@snap one`, `${R2}/my data@snap two`, `${R2}/my data@snap three:30`]);
  });

  it("push to a host that does not resolve: the failure names ssh's own error, not zfs send's verbose lines", async () => {
    const pair = parsePair({ source: `${SRC}:${R1}/typed`, target: `${DST}:${R2}/typed`, route: 'push' });
    const ls = await listings(fleet, [SRC, DST]);
    const plan = planSync(pair, ls.get(SRC)!, ls.get(DST)!, { route: { sshFromSource: ['ssh', '-o', 'BatchMode=yes', '--', 'no-such-host.invalid'] } });
    const logged: string[] = [];
    const r = await executePlan(plan, {
      runner: (h) => fleet.host(h).runner,
      freshListing: (h) => fleet.host(h).refresh(),
      logger: { ...testLogger, warn: (m) => logged.push(m) },
    });
    expect(r.outcome).toBe('failed');
    const failed = r.steps.find((s) => s.status === 'failed')!;
    expect(failed.error!.split('failed: ')[1]!.split('\n')[0]).toMatch(/^ssh: Could not resolve hostname no-such-host\.invalid/);
    expect(logged.join('\n')).toMatch(/Could not resolve hostname/);
    expect([...snapshotGuids(DST, `${R2}/typed`).keys()]).toEqual([`${R2}/typed@${SNAPS[0]}`]);
  });

  it('pull: a never-sent target is created by a full send of the oldest snapshot, then -I to the newest', async () => {
    const pair = parsePair({ source: `${SRC}:${R1}/fresh`, target: `${DST}:${R2}/new parent/fresh`, route: 'pull' });
    const ls = await listings(fleet, [SRC, DST]);
    expect(pairState(pair, ls.get(SRC)!, ls.get(DST)!).noCommon?.reason).toBe('never-sent');
    const plan = planSync(pair, ls.get(SRC)!, ls.get(DST)!, { route: { sshFromTarget: ['ssh', '-F', cfg, '-o', 'BatchMode=yes', SRC] } });
    expect(plan.steps.map((s) => s.op)).toEqual(['create', 'send', 'send']);
    for (const s of plan.steps) if (s.type === 'pipe') expect(s.exec?.host).toBe(DST);
    await runPlan(fleet, plan);
    expectSameSnapshots(`${R1}/fresh`, `${R2}/new parent/fresh`);
  });

  it('the same plan as shell lines, typed into shells, does the same', async () => {
    const pair = parsePair({ source: `${SRC}:${R1}/typed`, target: `${DST}:${R2}/typed` });
    const ls = await listings(fleet, [SRC, DST]);
    const plan = planSync(pair, ls.get(SRC)!, ls.get(DST)!);
    const { lines, byHost } = planToShell(plan, { ssh: (h) => ['ssh', '-F', cfg, h] });
    expect([...byHost.keys()].sort()).toEqual(['local', SRC, DST].sort());
    for (const l of lines) {
      if (l.runOn === 'local') execFileSync('bash', ['-o', 'pipefail', '-c', l.line], { stdio: ['ignore', 'pipe', 'pipe'] });
      else ssh(l.runOn, l.line);
    }
    expectSameSnapshots(`${R1}/typed`, `${R2}/typed`);
  });
});
