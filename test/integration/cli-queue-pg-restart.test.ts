/**
 * The PostgreSQL server of the queue restarted while two workers (the built CLI) run its jobs on the
 * lab's zfs-fuse hosts: the workers live through it (a server restart ends their sessions; pg's Pool
 * emitted that as an 'error' nobody listened to, and Node ended the process), reconnect and go on;
 * every job ends success once (one claim, one run recorded), the targets equal their sources.
 *
 * Needs ZFS_FLEET_PG_URL and the data directory of that server, as `bash test/lab/pg.sh up` was run
 * with (ZFS_FLEET_PG_DIR, default /tmp/zfs-fleet-pg): the test runs `pg.sh restart` on it, with the
 * port taken from the URL (pg.sh refuses when the server in that directory is on another port).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/core/queue/job.js';
import { JobQueue, openStore } from '../../src/store/index.js';
import { buildCli, labCli, pgAdminQuery, pgDatabases, queueJobs, root, snapshotsOf } from './queueCli.js';
import { DST, SRC, destroyRoot, makeSource, q, randomRoot, sh, snapshotGuids } from './replication/scenarios.js';

const pgAdmin = process.env.ZFS_FLEET_PG_URL;
if (!pgAdmin) console.warn('SKIPPED (PostgreSQL restart): needs ZFS_FLEET_PG_URL and its ZFS_FLEET_PG_DIR (bash test/lab/pg.sh up prints the URL)');

/** Two rounds for two workers: the restart comes while the first round runs and the second waits. */
const JOBS = 4;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-pg-restart-'));
const NAME = randomRoot();
const R1 = `zfs-hdd/${NAME}`;
const R2 = `rpool/${NAME}`;
const { start } = labCli(tmp);
const pgDbs = pgAdmin ? pgDatabases(pgAdmin, 'zfs_fleet_pg_restart_test') : undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Restarts the server of ZFS_FLEET_PG_URL (fast: every session ends with 57P01); resolves once it answers again. */
async function restartPostgres(): Promise<number> {
  const t0 = Date.now();
  await promisify(execFile)('bash', [path.join(root, 'test/lab/pg.sh'), 'restart'], {
    env: { ...process.env, ZFS_FLEET_PG_PORT: new URL(pgAdmin!).port || '5432' },
  });
  return Date.now() - t0;
}

/**
 * Queues a sync job per pair as `queue add sync` does, without its size estimate (`queue add` lists
 * both hosts for it, tested in cli-queue.test.ts; here it would only make the test longer).
 */
async function queueSyncs(url: string, pairs: { src: string; dst: string }[]): Promise<void> {
  const s = await openStore(url);
  try {
    for (const p of pairs) {
      const spec = { kind: 'sync' as const, source: `${SRC}:${p.src}`, target: `${DST}:${p.dst}` };
      await new JobQueue(s).add({ name: `${spec.source} -> ${spec.target}`, spec, pairId: `${spec.source}->${spec.target}`, sourceHost: SRC, targetHost: DST });
    }
  } finally {
    await s.close();
  }
}

/** The queue's jobs; undefined while the server is away. */
const jobsNow = (url: string): Promise<Job[] | undefined> => queueJobs(url).catch(() => undefined);

describe.skipIf(!pgAdmin)('the queue on PostgreSQL, the server restarted mid-run', () => {
  let url: string;
  const pairs = Array.from({ length: JOBS }, (_, i) => ({ src: `${R1}/d${i + 1}`, dst: `${R2}/d${i + 1}` }));

  beforeAll(async () => {
    buildCli();
    sh(DST, `zfs create -p ${q(R2)}`);
    for (const p of pairs) await makeSource(p.src, ['s1', 's2']);
    url = await pgDbs!.create();
  }, 180_000);

  afterAll(async () => {
    await pgDbs?.dropAll();
    await destroyRoot(DST, R2);
    await destroyRoot(SRC, R1);
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 180_000);

  it(`two workers, ${JOBS} jobs, the server restarted while each worker runs one and others wait: the workers go on; every job succeeds once`, async () => {
    const t0 = Date.now();
    await queueSyncs(url, pairs);
    const workers = [1, 2].map(() => start('worker', '--parallel', '1', '--lease', '6s', '--store', url));
    const logs = () => workers.map((w, i) => `--- worker ${i + 1} ---\n${w.log()}`).join('\n');
    const alive = () => workers.map((w) => w.child.exitCode === null && w.child.signalCode === null);
    try {
      // Restart while each worker runs a job and others wait: the running ones renew and record across it, the claims go on after it.
      let before: Job[] | undefined;
      for (let i = 0; i < 600 && !before; i++) {
        await sleep(100);
        const js = await jobsNow(url);
        if (js?.filter((j) => j.state === 'running').length === 2 && js.some((j) => j.state === 'available')) before = js;
      }
      expect(before, `the two workers never ran a job each with others waiting: ${logs()}`).toBeDefined();
      const db = new URL(url).pathname.slice(1);
      const sessions = await pgAdminQuery<{ n: number }>(pgAdmin!, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [db]);
      // Each worker holds a session (its lease renewals): the restart ends them.
      expect(sessions[0]!.n).toBeGreaterThanOrEqual(2);
      const restartMs = await restartPostgres();
      await sleep(1500);
      expect(alive(), `a worker died when the server restarted: ${logs()}`).toEqual([true, true]);

      let done: Job[] | undefined;
      for (let i = 0; i < 900; i++) {
        await sleep(100);
        const js = await jobsNow(url);
        if (js?.every((j) => j.state !== 'available' && j.state !== 'running')) {
          done = js;
          break;
        }
        if (!alive().every(Boolean)) break;
      }
      expect(alive(), `a worker died: ${logs()}`).toEqual([true, true]);
      expect(done, `the jobs did not end: ${logs()}`).toBeDefined();
      for (const w of workers) w.child.kill('SIGTERM');
      const codes = await Promise.all(workers.map((w) => new Promise((r) => (w.child.exitCode !== null ? r(w.child.exitCode) : w.child.once('close', r)))));
      expect(codes, logs()).toEqual([0, 0]);
      expect(logs()).not.toMatch(/Unhandled 'error' event/);

      // Each job claimed once (attempts 1: never given to a second worker, so never run twice at once), success, its run recorded once.
      expect(
        done!.map((j) => [j.state, j.sync, j.attempts, j.error]),
        logs(),
      ).toEqual(pairs.map(() => ['success', 0, 1, null]));
      const claims = [...logs().matchAll(/job (\d+) .*: claimed \(attempt (\d+)\)/g)].map((m) => Number(m[1]));
      expect(claims.sort((a, b) => a - b)).toEqual(done!.map((j) => j.id).sort((a, b) => a - b));
      const s = await openStore(url);
      try {
        const runs = await s.runs({ kind: 'sync' });
        expect(runs.map((r) => r.planId).sort()).toEqual(done!.map((j) => j.runPlanId).sort());
        expect(runs.every((r) => r.outcome === 'ok')).toBe(true);
      } finally {
        await s.close();
      }
      for (const p of pairs) expect(snapshotsOf(snapshotGuids(DST, p.dst)), p.dst).toEqual(snapshotsOf(snapshotGuids(SRC, p.src)));

      const byWorker = new Map<string, number>();
      for (const j of done!) byWorker.set(j.worker ?? '?', (byWorker.get(j.worker ?? '?') ?? 0) + 1);
      console.log(
        `PostgreSQL restarted in ${restartMs} ms with ${sessions[0]!.n} session(s) open on the queue's database, ` +
          `${before!.filter((j) => j.state === 'running').length} job(s) running and ${before!.filter((j) => j.state === 'available').length} waiting; ` +
          `${done!.length} jobs succeeded, attempts ${done!.map((j) => j.attempts).join(',')}, per worker ${[...byWorker.values()].join('+')}, in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
    } finally {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    }
  }, 240_000);
});
