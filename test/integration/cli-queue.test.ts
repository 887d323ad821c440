/**
 * zfs-fleet queue and worker (the built bundle) on the lab's real zfs-fuse hosts over real sshd, the
 * queue in a real SQLite file and, with ZFS_FLEET_PG_URL (`bash test/lab/pg.sh up`), in the real
 * PostgreSQL: jobs queued with their sizes, run by workers through the same flow as `sync --yes`,
 * a plan that would destroy data refused unattended, the operator's controls, and a worker killed
 * with -9 mid-send whose job another worker finishes once the lease runs out. Throw-away roots on
 * off1 and ovh3 (test/integration/replication/scenarios.ts). The long series of kills is
 * `npm run soak:queue` (scripts/soak-queue.mjs).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/queue/job.js';
import { openStore } from '../../src/store/index.js';
import { ssh } from './lab.js';
import { buildCli, labCli, pgDatabases, queueJobs, snapshotsOf } from './queueCli.js';
import {
  DST,
  SRC,
  destroyRoot,
  releaseLeakedSendHolds,
  makeSource,
  q,
  randomRoot,
  sh,
  snapshotGuids,
  writeFile,
  mountpoint,
  snapshot,
} from './replication/scenarios.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-queue-'));
const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const pgAdmin = process.env.ZFS_FLEET_PG_URL;
/** Kill trials per backend: 2 in the test run (an incremental, a full send), 20 in `npm run soak:queue`. */
const KILLS = Number(process.env.ZFS_FLEET_SOAK_KILLS ?? 2);
if (!pgAdmin) console.warn('SKIPPED (PostgreSQL half): needs ZFS_FLEET_PG_URL (bash test/lab/pg.sh up prints it)');

const { run, start } = labCli(tmp);

beforeAll(async () => {
  buildCli();
  sh(DST, `zfs create -p ${q(R2)}`);
}, 180_000);

const pgDbs = pgAdmin ? pgDatabases(pgAdmin, 'zfs_fleet_queue_test') : undefined;

afterAll(async () => {
  await pgDbs?.dropAll();
  await destroyRoot(DST, R2);
  await destroyRoot(SRC, R1);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 180_000);

const backends: { kind: string; newUrl: () => Promise<string> }[] = [
  { kind: 'sqlite', newUrl: async () => path.join(fs.mkdtempSync(path.join(tmp, 'db-')), 'fleet.db') },
  ...(pgDbs ? [{ kind: 'postgres', newUrl: () => pgDbs.create() }] : []),
];

/** No `zfs recv` into `dataset` left running on the host. */
function recvsInto(host: string, dataset: string): string[] {
  return ssh(host, `pgrep -af 'zfs (recv|receive)' || true`)
    .split('\n')
    .filter((l) => l.includes(dataset));
}

/** Snapshots under `dataset` that carry user holds (userrefs > 0). */
function heldSnapshots(host: string, dataset: string): string[] {
  return ssh(host, `zfs get -H -p -o name,value userrefs -r -t snapshot ${q(dataset)} 2>/dev/null || true`)
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([n, v]) => n && Number(v) > 0)
    .map(([n]) => n!);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends)('zfs-fleet queue and worker, queue on $kind', ({ kind, newUrl }) => {
  let url: string;
  const base = `${R1}/${kind}`;
  const dstBase = `${R2}/${kind}`;
  beforeAll(async () => {
    url = await newUrl();
    sh(DST, `zfs create -p ${q(dstBase)}`);
    await makeSource(`${base}/small`, ['s1', 's2']);
    await makeSource(`${base}/other`, ['s1']);
    await makeSource(`${base}/urgent`, ['s1']);
  }, 180_000);

  const jobs = () => queueJobs(url);

  /** Waits until the worker has reported bytes of the job's send (the job as it was then), or the job ended first (undefined). */
  async function midSend(w: { exitCode: number | null }, name: string): Promise<Job | undefined> {
    for (let i = 0; i < 1200 && w.exitCode === null; i++) {
      await sleep(100);
      const j = (await jobs()).find((x) => x.name === name)!;
      if (j.state === 'running' && (j.bytesDone ?? 0) > 0) return j;
      if (j.state !== 'available' && j.state !== 'running') return undefined;
    }
    return undefined;
  }

  it('queue add: jobs with their sizes, in claim order; the same pair is not queued twice', async () => {
    const a = await run('queue', 'add', 'sync', `${SRC}:${base}/small`, `${DST}:${dstBase}/small`, '--store', url);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^queued job 1: off1:.*\/small -> ovh3:.*\/small \(priority 5\)$/m);
    expect((await run('queue', 'add', 'sync', `${SRC}:${base}/other`, `${DST}:${dstBase}/other`, '--priority', '7', '--store', url)).code).toBe(0);
    expect((await run('queue', 'add', 'sync', `${SRC}:${base}/urgent`, `${DST}:${dstBase}/urgent`, '--priority', '1', '--store', url)).code).toBe(0);
    const again = await run('queue', 'add', 'sync', `${SRC}:${base}/small`, `${DST}:${dstBase}/small`, '--store', url);
    expect(again.stdout).toMatch(/^already queued: job 1 \(available\): /m);
    const ls = await run('queue', 'ls', '--json', '--store', url);
    const listed = JSON.parse(ls.stdout) as Job[];
    expect(listed.map((j) => [j.id, j.state, j.priority])).toEqual([
      [3, 'available', 1],
      [1, 'available', 5],
      [2, 'available', 7],
    ]);
    // The size of a first full send: the newest snapshot's referenced bytes, in KB, as the host said.
    const referenced = Number(ssh(SRC, `zfs get -H -p -o value referenced ${q(`${base}/small@s2`)}`).trim());
    expect(listed.find((j) => j.id === 1)!.blocks).toBe(Math.ceil(referenced / 1024));
    const text = await run('queue', 'ls', '--store', url);
    expect(text.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+SYNC\s+PRI\s+NAME\s+SIZE\s+TRIES\s+WORKER\s+PROGRESS\/ERROR$/);
  }, 120_000);

  it('worker --once runs every job through the sync flow: targets equal the sources, runs recorded, states 0', async () => {
    const w = await run('worker', '--once', '--parallel', '2', '--per-host', '2', '--store', url);
    expect(w.stderr).toMatch(/3 job\(s\) run, 0 failed/);
    expect(w.code).toBe(0);
    for (const d of ['small', 'other', 'urgent']) {
      const src = snapshotsOf(snapshotGuids(SRC, `${base}/${d}`));
      const dst = snapshotsOf(snapshotGuids(DST, `${dstBase}/${d}`));
      expect(dst).toEqual(src);
    }
    const done = await jobs();
    expect(done.map((j) => [j.state, j.sync, j.attempts])).toEqual([
      ['success', 0, 1],
      ['success', 0, 1],
      ['success', 0, 1],
    ]);
    expect(done.every((j) => j.runPlanId && j.worker?.includes('pid'))).toBe(true);
    // The runs are in the same store, as `zfs-fleet sync` records them.
    const s = await openStore(url);
    try {
      const runs = await s.runs({ kind: 'sync' });
      expect(new Set(runs.map((r) => r.planId))).toEqual(new Set(done.map((j) => j.runPlanId)));
      expect(runs.every((r) => r.outcome === 'ok')).toBe(true);
    } finally {
      await s.close();
    }
  }, 240_000);

  it('a plan that would destroy data is not run unattended: exit 3, the command to review it, the target untouched', async () => {
    // The replica got a snapshot of its own: syncing means rolling it back (destroying it).
    snapshot(DST, `${dstBase}/small@local-only`);
    sh(SRC, `zfs snapshot ${q(`${base}/small@s3`)}`);
    const before = snapshotGuids(DST, `${dstBase}/small`);
    expect((await run('queue', 'add', 'sync', `${SRC}:${base}/small`, `${DST}:${dstBase}/small`, '--store', url)).code).toBe(0);
    const w = await run('worker', '--once', '--store', url);
    expect(w.code).toBe(1);
    const j = (await jobs()).find((x) => x.state !== 'success')!;
    expect(j).toMatchObject({ state: 'failed', sync: 3 });
    expect(j.error).toMatch(
      /^the plan destroys 1 object\(s\) \(.*local-only.*\): a queued job never does that unattended; review and run it with: zfs-fleet sync /,
    );
    expect(snapshotGuids(DST, `${dstBase}/small`)).toEqual(before);
    sh(DST, `zfs destroy ${q(`${dstBase}/small@local-only`)}`);
    // Retried after the operator cleared it: it runs.
    const r = await run('queue', 'retry', String(j.id), '--store', url);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${j.id}\\s+available\\s+-1\\s`, 'm'));
    expect((await run('worker', '--once', '--store', url)).code).toBe(0);
    expect((await jobs()).find((x) => x.id === j.id)).toMatchObject({ state: 'success', attempts: 2 });
  }, 240_000);

  it('pause, resume, cancel, prio and bad input: states as documented, clear errors', async () => {
    sh(SRC, `zfs snapshot ${q(`${base}/other@s2`)}`);
    const add = await run('queue', 'add', 'sync', `${SRC}:${base}/other`, `${DST}:${dstBase}/other`, '--json', '--store', url);
    const id = (JSON.parse(add.stdout) as { job: Job }[])[0]!.job.id;
    expect((await run('queue', 'pause', '--all', '--store', url)).stdout).toMatch(new RegExp(`^${id}\\s+paused\\s+-10\\s`, 'm'));
    const idle = await run('worker', '--once', '--store', url);
    expect(idle.stderr).toMatch(/0 job\(s\) run/);
    expect((await run('queue', 'prio', String(id), '2', '--store', url)).stdout).toMatch(new RegExp(`^${id}\\s+paused\\s+-10\\s+2\\s`, 'm'));
    expect((await run('queue', 'resume', String(id), '--store', url)).code).toBe(0);
    const c = await run('queue', 'cancel', String(id), '--store', url);
    expect(c.stdout).toMatch(new RegExp(`^${id}\\s+cancelled\\s+130\\s.*cancelled before it ran$`, 'm'));
    const unknown = await run('queue', 'cancel', '9999', '--store', url);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('zfs-fleet: no job 9999 in the queue\n');
    const bad = await run('queue', 'cancel', 'x1', '--store', url);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^zfs-fleet: a job is its number \(queue ls shows them\), not 'x1'/);
    expect((await run('queue', 'ls', '--state', 'bogus', '--store', url)).stderr).toMatch(
      /--state is one of available, running, paused, failed, cancelled, success/,
    );
    expect((await run('queue', 'add', 'sync', `${SRC}:${base}/other`, `${DST}:${dstBase}/other`, '--priority', '0', '--store', url)).code).toBe(2);
    const odd = await run('queue', 'add', 'sync', `${SRC}:${base}/other`, `${DST}:${dstBase}/other`, `${SRC}:${base}/small`, '--store', url);
    expect(odd.code).toBe(2);
    expect(odd.stderr).toMatch(/^zfs-fleet: queue add sync takes SRC DST \(HOST:DATASET HOST:DATASET\), or several SRC DST pairs/);
    // Several pairs in one call: a job each, sized.
    const two = await run(
      'queue',
      'add',
      'sync',
      `${SRC}:${base}/other`,
      `${DST}:${dstBase}/other`,
      `${SRC}:${base}/urgent`,
      `${DST}:${dstBase}/urgent`,
      '--json',
      '--store',
      url,
    );
    expect(two.code, two.stderr).toBe(0);
    const added = JSON.parse(two.stdout) as { job: Job; added: boolean }[];
    expect(added.map((a) => [a.added, a.job.spec.target, a.job.blocks !== null])).toEqual([
      [true, `${DST}:${dstBase}/other`, true],
      [true, `${DST}:${dstBase}/urgent`, true],
    ]);
    expect((await run('queue', 'cancel', ...added.map((a) => String(a.job.id)), '--store', url)).code).toBe(0);
  }, 120_000);

  it("a group's schedule: the agent queues its syncs once per period, and its workers run them; SIGTERM: exit 0", async () => {
    const ds = `${base}/sched`;
    const target = `${dstBase}/sched`;
    await makeSource(ds, ['s1']);
    const fleetFile = path.join(tmp, `fleet-${kind}.json`);
    fs.writeFileSync(
      fleetFile,
      JSON.stringify({ groups: [{ name: `sched-${kind}`, primary: `${SRC}:${ds}`, replicas: [`${DST}:${target}`], schedule: 'every 1h' }] }),
    );
    const agent = (...more: string[]) => run('agent', '--once', '--fleet', fleetFile, '--store', url, ...more);
    const first = await agent();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/queued job \d+ \(every 1h\): off1:.*\/sched -> ovh3:.*\/sched/);
    // Within the hour: not queued again.
    const second = await agent();
    expect(second.stderr).not.toMatch(/queued job/);
    const queued = (await jobs()).filter((j) => j.name.endsWith('/sched'));
    expect(queued.map((j) => j.state)).toEqual(['available']);
    // The agent with a worker runs it.
    const { child: a, log } = start('agent', '--interval', '1h', '--workers', '1', '--fleet', fleetFile, '--store', url);
    let state = '';
    for (let i = 0; i < 600 && state !== 'success'; i++) {
      await sleep(200);
      state = (await jobs()).find((j) => j.id === queued[0]!.id)!.state;
      if (state === 'failed') break;
    }
    expect(state, log()).toBe('success');
    a.kill('SIGTERM');
    const code = await new Promise((r) => a.once('close', r));
    expect(code, log()).toBe(0);
    expect(log()).toMatch(/1 queue worker\(s\) running/);
    const src = snapshotsOf(snapshotGuids(SRC, ds));
    expect(snapshotsOf(snapshotGuids(DST, target))).toEqual(src);
  }, 240_000);

  it('worker --once stopped by SIGTERM mid-send: exit 0, the job put back (not failed), the target as before; the next worker finishes it', async () => {
    const ds = `${base}/term`;
    const target = `${dstBase}/term`;
    const name = `${SRC}:${ds} -> ${DST}:${target}`;
    sh(SRC, `zfs create -p ${q(ds)}`);
    const mp = mountpoint(SRC, ds);
    writeFile(SRC, `${mp}/small.txt`, 4);
    snapshot(SRC, `${ds}@t0`);
    expect((await run('sync', `${SRC}:${ds}`, `${DST}:${target}`, '--yes', '--no-bookmark')).code).toBe(0);
    const before = snapshotsOf(snapshotGuids(DST, target));
    for (let i = 0; i < 4; i++) writeFile(SRC, `${mp}/f${i}.txt`, 6 * 1024);
    snapshot(SRC, `${ds}@t1`);
    expect((await run('queue', 'add', 'sync', `${SRC}:${ds}`, `${DST}:${target}`, '--store', url)).code).toBe(0);
    // A short lease: renewed (with the bytes done) every second, so the send is seen under way.
    const { child: w, log } = start('worker', '--once', '--lease', '3s', '--store', url);
    const at = await midSend(w, name);
    expect(at, `the worker never reported bytes of the send: ${log()}`).toBeDefined();
    w.kill('SIGTERM');
    const code = await new Promise((r) => (w.exitCode !== null ? r(w.exitCode) : w.once('close', r)));
    expect(code, log()).toBe(0);
    expect(log()).toMatch(/SIGTERM: stopping \(running jobs go back to the queue\)/);
    expect(log()).toMatch(/0 job\(s\) run, 0 failed, 1 put back in the queue/);
    const j = (await jobs()).find((x) => x.name === name)!;
    expect(j).toMatchObject({ state: 'available', attempts: 1 });
    expect(j.error).toMatch(/stopped \(SIGTERM\) during attempt 1; back in the queue/);
    // Stopped as Ctrl-C stops a sync: the target stays at its previous snapshot, no receive left, nothing held.
    expect(snapshotsOf(snapshotGuids(DST, target))).toEqual(before);
    expect(recvsInto(DST, target)).toEqual([]);
    for (const snap of heldSnapshots(SRC, ds)) releaseLeakedSendHolds(SRC, snap);
    expect(heldSnapshots(SRC, ds)).toEqual([]);
    expect(heldSnapshots(DST, target)).toEqual([]);
    const again = await run('worker', '--once', '--store', url);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/claimed \(attempt 2\)/);
    expect((await jobs()).find((x) => x.name === name)).toMatchObject({ state: 'success', sync: 0, attempts: 2 });
    expect(snapshotsOf(snapshotGuids(DST, target))).toEqual(snapshotsOf(snapshotGuids(SRC, ds)));
  }, 240_000);

  it(
    `a worker killed with -9 mid-send (${KILLS} trial(s)): the lease runs out, the next worker runs the job once more to success; no receive or hold left`,
    async () => {
      for (let trial = 1; trial <= KILLS; trial++) {
        // Odd trials cut an incremental (the base held on both sides by the cut sync), even ones a first full send.
        const incremental = trial % 2 === 1;
        const ds = `${base}/big${trial}`;
        const target = `${dstBase}/big${trial}`;
        const name = `${SRC}:${ds} -> ${DST}:${target}`;
        sh(SRC, `zfs create -p ${q(ds)}`);
        const mp = mountpoint(SRC, ds);
        if (incremental) {
          writeFile(SRC, `${mp}/small.txt`, 4);
          snapshot(SRC, `${ds}@s0`);
          expect((await run('sync', `${SRC}:${ds}`, `${DST}:${target}`, '--yes', '--no-bookmark')).code).toBe(0);
        }
        for (let i = 0; i < 4; i++) writeFile(SRC, `${mp}/f${i}.txt`, 6 * 1024);
        snapshot(SRC, `${ds}@s1`);
        expect((await run('queue', 'add', 'sync', `${SRC}:${ds}`, `${DST}:${target}`, '--store', url)).code).toBe(0);
        const { child: w, log } = start('worker', '--lease', '3s', '--store', url);
        const killedAt = await midSend(w, name);
        if (killedAt) w.kill('SIGKILL');
        expect(killedAt, `trial ${trial}: the worker never reported bytes of the send: ${log()}`).toBeDefined();
        await new Promise((r) => (w.exitCode !== null || w.signalCode !== null ? r(undefined) : w.once('close', r)));
        // The lease (3 s) runs out; the next worker takes the job back.
        await sleep(3500);
        const again = await run('worker', '--once', '--lease', '3s', '--store', url);
        expect(again.stderr, `trial ${trial}`).toMatch(/claimed \(attempt 2\)/);
        expect(again.code, `trial ${trial}: ${again.stderr}`).toBe(0);
        // The cut incremental held its base on both sides: released before the second attempt (else its `zfs hold` fails).
        if (incremental) expect(again.stderr).toMatch(/a previous attempt was cut: releasing the holds it may have left \(\d+ held snapshot\(s\)\)/);
        const j = (await jobs()).find((x) => x.name === name)!;
        expect(j, `trial ${trial}`).toMatchObject({ state: 'success', sync: 0, attempts: 2, error: null });
        const src = snapshotsOf(snapshotGuids(SRC, ds));
        expect(snapshotsOf(snapshotGuids(DST, target))).toEqual(src);
        expect(recvsInto(DST, target)).toEqual([]);
        // zfs-fuse may leak the temporary `.send-PID` hold of a killed `zfs send` (its bug, not ours): those are released first.
        for (const snap of heldSnapshots(SRC, ds)) releaseLeakedSendHolds(SRC, snap);
        expect(heldSnapshots(SRC, ds)).toEqual([]);
        expect(heldSnapshots(DST, target)).toEqual([]);
        console.log(
          `kill trial ${trial} (${kind}, ${incremental ? 'incremental' : 'full'}): killed at ${killedAt!.bytesDone} bytes of ${killedAt!.bytesTotal ?? '?'}; the second attempt succeeded`,
        );
        // Each trial's 24 MiB go (the lab's pools are 1 GiB: the soak's 20 trials per store would fill them).
        await destroyRoot(DST, target);
        await destroyRoot(SRC, ds);
      }
    },
    KILLS * 120_000 + 60_000,
  );
});

describe('zfs-fleet queue add migrate (queue on SQLite)', () => {
  const from = `${R1}/mig`;
  const to = `${R2}/mig-copy`;
  let url: string;
  beforeAll(async () => {
    url = path.join(fs.mkdtempSync(path.join(tmp, 'db-')), 'fleet.db');
    await makeSource(from, ['m1']);
    await makeSource(`${from}/many files`, ['m1']);
    // 300 small files: the job's files (df -i) and its place in the claim order.
    sh(
      SRC,
      `mp=$(zfs get -H -o value mountpoint ${q(`${from}/many files`)}); mkdir -p "$mp/f"; for i in $(seq 1 300); do echo $i > "$mp/f/$i"; done; zfs snapshot ${q(`${from}/many files@m2`)}`,
    );
    await makeSource(`${from}/many files/inner`, ['m1']);
    await makeSource(`${from}/few`, ['m1']);
  }, 180_000);

  it('refuses what is not a migration: a root inside itself, a snapshot, a missing root', async () => {
    const inside = await run('queue', 'add', 'migrate', `${SRC}:${from}`, `${SRC}:${from}/copy`, '--store', url);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toMatch(/is inside what it migrates/);
    const snap = await run('queue', 'add', 'migrate', `${SRC}:${from}@m1`, `${DST}:${to}`, '--store', url);
    expect(snap.code).toBe(2);
    expect(snap.stderr).toMatch(/SRC_ROOT is HOST:DATASET/);
    const missing = await run('queue', 'add', 'migrate', `${SRC}:${from}/nope`, `${DST}:${to}`, '--store', url);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/mig\/nope does not exist/);
  }, 120_000);

  it('one job per dataset under the root, each after its parent, sized and counted (df -i) on the host; workers run them parents first', async () => {
    const a = await run('queue', 'add', 'migrate', `${SRC}:${from}`, `${DST}:${to}`, '--store', url);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const queued = JSON.parse((await run('queue', 'ls', '--json', '--store', url)).stdout) as Job[];
    const by = new Map(queued.map((j) => [j.spec.source.slice(`${SRC}:${from}`.length), j]));
    expect([...by.keys()].sort()).toEqual(['', '/few', '/many files', '/many files/inner']);
    expect(queued.every((j) => j.kind === 'migrate' && j.state === 'available')).toBe(true);
    expect(by.get('/many files')!.spec.target).toBe(`${DST}:${to}/many files`);
    expect(by.get('')!.after).toBeNull();
    expect(by.get('/few')!.after).toBe(by.get('')!.id);
    expect(by.get('/many files')!.after).toBe(by.get('')!.id);
    expect(by.get('/many files/inner')!.after).toBe(by.get('/many files')!.id);
    // Files as df -i counts them on the source: 300 files, their directories, the dataset's own objects.
    expect(by.get('/many files')!.files).toBeGreaterThanOrEqual(300);
    expect(by.get('/few')!.files).toBeGreaterThanOrEqual(2);
    expect(by.get('/few')!.files).toBeLessThan(20);
    // Claim order within a priority: size + files x penalty; the parent's job waits for nothing.
    const text = (await run('queue', 'ls', '--store', url)).stdout;
    expect(text).toMatch(new RegExp(`after job ${by.get('')!.id}`));

    const w = await run('worker', '--once', '--parallel', '2', '--store', url);
    expect(w.stderr).toMatch(/4 job\(s\) run, 0 failed/);
    expect(w.code).toBe(0);
    const done = await queueJobs(url);
    expect(done.map((j) => j.state)).toEqual(['success', 'success', 'success', 'success']);
    const byId = new Map(done.map((j) => [j.id, j]));
    for (const j of done) if (j.after) expect(j.startedAt! >= byId.get(j.after)!.finishedAt!).toBe(true);
    for (const d of ['', '/few', '/many files', '/many files/inner'])
      expect(snapshotsOf(snapshotGuids(DST, `${to}${d}`))).toEqual(snapshotsOf(snapshotGuids(SRC, `${from}${d}`)));
  }, 300_000);
});
