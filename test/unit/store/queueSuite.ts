/**
 * The job queue's behaviour on each backend on a real database: SQLite on a temp file
 * (test/unit/store/sqlite.test.ts) and PostgreSQL on the lab server (test/integration/store).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT, MAX_ATTEMPTS } from '../../../src/core/queue/job.js';
import { openStore, type FleetStore } from '../../../src/store/index.js';
import { JobError, JobQueue, type NewJob } from '../../../src/store/queue.js';
import { readmeQueries, type Backend } from './storeSuite.js';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

export function syncJob(src: string, dst: string, over: Partial<NewJob> = {}): NewJob {
  const host = (e: string) => e.slice(0, e.indexOf(':'));
  return {
    name: `${src} -> ${dst}`,
    spec: { kind: 'sync', source: src, target: dst },
    pairId: `${src}->${dst}`,
    sourceHost: host(src),
    targetHost: host(dst),
    ...over,
  };
}

const at = (s: number) => new Date(Date.UTC(2026, 11, 4, 6, 0, s));

export function queueSuite(backend: Backend): void {
  const opened: FleetStore[] = [];
  const open = async (url?: string) => {
    const s = await openStore(url ?? (await backend.newUrl()));
    opened.push(s);
    return new JobQueue(s);
  };
  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => {});
  });

  describe(`job queue: ${backend.kind}`, () => {
    it('adds a job as available; the same pair is not queued twice while one is available, running or paused', async () => {
      const q = await open();
      const a = await q.add(syncJob('off1:tank/a', 'ovh3:rpool/a', { blocks: 10, files: 2, priority: 3 }), at(0));
      expect(a.added).toBe(true);
      expect(a.job).toMatchObject({
        state: 'available',
        sync: -1,
        priority: 3,
        blocks: 10,
        files: 2,
        attempts: 0,
        worker: null,
        sourceHost: 'off1',
        targetHost: 'ovh3',
      });
      expect(a.job.spec).toEqual({ kind: 'sync', source: 'off1:tank/a', target: 'ovh3:rpool/a' });
      const again = await q.add(syncJob('off1:tank/a', 'ovh3:rpool/a'));
      expect(again).toEqual({ job: a.job, added: false });
      await q.pause([a.job.id]);
      expect((await q.add(syncJob('off1:tank/a', 'ovh3:rpool/a'))).added).toBe(false);
      await q.cancel([a.job.id]);
      // Finished (cancelled): the pair may be queued again.
      expect((await q.add(syncJob('off1:tank/a', 'ovh3:rpool/a'))).added).toBe(true);
      await expect(q.add(syncJob('off1:tank/b', 'ovh3:rpool/b', { priority: 11 }))).rejects.toThrow(
        /priority must be a whole number from 1 \(first\) to 10 \(last\), not 11/,
      );
    });

    it('claims by priority, then blocks + files x penalty, then age; a lease, attempts, the worker', async () => {
      const q = await open();
      const big = (await q.add(syncJob('h:p/big', 'r:p/big', { blocks: 1_000_000, files: 1 }))).job;
      const many = (await q.add(syncJob('h:p/many', 'r:p/many', { blocks: 1000, files: 40_000 }))).job; // 1000 + 40,000 x 32
      const urgent = (await q.add(syncJob('h:p/urgent', 'r:p/urgent', { blocks: 9e9, priority: 1 }))).job;
      const last = (await q.add(syncJob('h:p/last', 'r:p/last', { blocks: 0, priority: 10 }))).job;
      const order: number[] = [];
      for (;;) {
        const j = await q.claim({ worker: 'w1', now: at(0) });
        if (!j) break;
        order.push(j.id);
        expect(j).toMatchObject({ state: 'running', worker: 'w1', attempts: 1, leaseUntil: at(60).toISOString(), startedAt: at(0).toISOString() });
      }
      expect(order).toEqual([urgent.id, big.id, many.id, last.id]);
      // Penalty 0: size alone.
      const q2 = await open();
      const b2 = (await q2.add(syncJob('h:p/big', 'r:p/big', { blocks: 1_000_000, files: 1 }))).job;
      const m2 = (await q2.add(syncJob('h:p/many', 'r:p/many', { blocks: 1000, files: 1000 }))).job;
      expect((await q2.claim({ worker: 'w', penalty: 0 }))!.id).toBe(m2.id);
      expect((await q2.claim({ worker: 'w', penalty: 0 }))!.id).toBe(b2.id);
    });

    it('per-host limits count the running jobs of every worker', async () => {
      const q = await open();
      await q.add(syncJob('off1:t/a', 'ovh3:r/a'));
      await q.add(syncJob('off1:t/b', 'ovh3:r/b'));
      const other = (await q.add(syncJob('off2:t/c', 'off2:t/c-copy'))).job;
      const first = await q.claim({ worker: 'w1', perHost: 1 });
      expect(first!.sourceHost).toBe('off1');
      // w2: off1 and ovh3 are busy with w1's job; the off2 job fits.
      expect((await q.claim({ worker: 'w2', perHost: 1 }))!.id).toBe(other.id);
      expect(await q.claim({ worker: 'w3', perHost: 1 })).toBeUndefined();
      expect(await q.claim({ worker: 'w3', perHost: 2 })).toBeDefined();
    });

    it("a job that waits for another (a migration's child) is claimed only once that one succeeded", async () => {
      const q = await open();
      const parent = (await q.add(syncJob('off1:t/m', 'ovh3:r/m', { kind: 'migrate', blocks: 900 }))).job;
      // Smaller, so first by size; but it waits for its parent.
      const child = (await q.add(syncJob('off1:t/m/c', 'ovh3:r/m/c', { kind: 'migrate', blocks: 1, after: parent.id }))).job;
      expect(child).toMatchObject({ kind: 'migrate', after: parent.id, state: 'available' });
      expect((await q.list()).find((j) => j.id === child.id)!.waitsFor).toBe(parent.id);
      const first = await q.claim({ worker: 'w1' });
      expect(first!.id).toBe(parent.id);
      expect(await q.claim({ worker: 'w2' })).toBeUndefined();
      // The parent failed: the child still waits (its target's parent may not exist).
      await q.finish(parent.id, 'w1', { sync: EXIT.failed, error: 'boom' });
      expect(await q.claim({ worker: 'w2' })).toBeUndefined();
      await q.retry([parent.id]);
      expect((await q.claim({ worker: 'w1' }))!.id).toBe(parent.id);
      await q.finish(parent.id, 'w1', { sync: 0 });
      expect((await q.list()).find((j) => j.id === child.id)!.waitsFor).toBeUndefined();
      expect((await q.claim({ worker: 'w2' }))!.id).toBe(child.id);
    });

    it('a lease not renewed: the job goes back with its attempt counted; the old worker learns it lost the job', async () => {
      const q = await open();
      const j = (await q.add(syncJob('off1:t/a', 'ovh3:r/a'))).job;
      await q.claim({ worker: 'w1', now: at(0), leaseSeconds: 30 });
      expect(await q.renew(j.id, 'w1', { now: at(20), leaseSeconds: 30, bytesDone: 500 })).toBe('ok');
      expect(await q.claim({ worker: 'w2', now: at(45) })).toBeUndefined(); // renewed to 50 s
      const again = await q.claim({ worker: 'w2', now: at(51) });
      expect(again).toMatchObject({ id: j.id, worker: 'w2', attempts: 2, state: 'running', bytesDone: 0 });
      expect(await q.renew(j.id, 'w1', { now: at(52) })).toBe('lost');
      expect(await q.finish(j.id, 'w1', { sync: 0 }, at(53))).toBe(false);
      expect(await q.finish(j.id, 'w2', { sync: 0, bytesDone: 7, runPlanId: 'plan-x' }, at(54))).toBe(true);
      expect(await q.get(j.id)).toMatchObject({ state: 'success', sync: 0, attempts: 2, bytesDone: 7, runPlanId: 'plan-x', finishedAt: at(54).toISOString() });
    });

    it(`a job whose worker stops answering ${MAX_ATTEMPTS} times is failed, not retried forever`, async () => {
      const q = await open();
      const j = (await q.add(syncJob('off1:t/a', 'ovh3:r/a'))).job;
      for (let i = 0; i < MAX_ATTEMPTS; i++) expect((await q.claim({ worker: `w${i}`, now: at(i * 100), leaseSeconds: 10 }))?.id).toBe(j.id);
      expect(await q.expireLeases(at(MAX_ATTEMPTS * 100))).toBe(1);
      expect(await q.get(j.id)).toMatchObject({ state: 'failed', sync: EXIT.gaveUp, attempts: MAX_ATTEMPTS });
      expect((await q.get(j.id)).error).toMatch(/^gave up after 10 attempts: its worker w9 stopped renewing its lease/);
    });

    it('pause, resume, retry, cancel and priority: states as documented, unknown ids and wrong states refused by name', async () => {
      const q = await open();
      const a = (await q.add(syncJob('h:p/a', 'r:p/a'))).job;
      const b = (await q.add(syncJob('h:p/b', 'r:p/b'))).job;
      const c = (await q.add(syncJob('h:p/c', 'r:p/c'))).job;
      expect((await q.pause([])).map((j) => j.state)).toEqual(['paused', 'paused', 'paused']);
      expect(await q.claim({ worker: 'w' })).toBeUndefined();
      await expect(q.pause([a.id])).rejects.toThrow(`cannot pause job ${a.id}: it is paused`);
      expect((await q.resume([b.id])).map((j) => j.id)).toEqual([b.id]);
      const running = await q.claim({ worker: 'w' });
      expect(running!.id).toBe(b.id);
      // Cancel a running job: asked; its worker's next renewal says so; it records the cancel.
      expect((await q.cancel([b.id]))[0]).toMatchObject({ state: 'running', cancelRequested: true });
      expect(await q.renew(b.id, 'w')).toBe('cancel');
      await q.finish(b.id, 'w', { sync: EXIT.cancelled, error: 'cancelled' });
      expect((await q.get(b.id)).state).toBe('cancelled');
      // Cancel a paused job: at once.
      expect((await q.cancel([c.id]))[0]).toMatchObject({ state: 'cancelled', sync: 130, error: 'cancelled before it ran' });
      await expect(q.cancel([c.id])).rejects.toThrow(`job ${c.id} is cancelled: only an available, paused or running job can be cancelled`);
      // Retry: a cancelled job by id; --failed takes failed ones only.
      expect((await q.retry([b.id]))[0]).toMatchObject({ state: 'available', error: null, attempts: 1, cancelRequested: false });
      expect(await q.retry([])).toEqual([]);
      await expect(q.retry([a.id])).rejects.toThrow(`job ${a.id} is paused: only a failed or cancelled job can be retried`);
      await expect(q.retry([99999])).rejects.toThrow(JobError);
      await expect(q.retry([99999])).rejects.toThrow('no job 99999 in the queue');
      await expect(q.get(99999)).rejects.toThrow('no job 99999 in the queue');
      expect((await q.prioritize(a.id, 1)).priority).toBe(1);
      await expect(q.prioritize(a.id, 0)).rejects.toThrow(/priority must be a whole number from 1/);
      expect((await q.list({ state: 'paused' })).map((j) => j.id)).toEqual([a.id]);
      expect((await q.list()).map((j) => j.state)).toEqual(['available', 'paused', 'cancelled']);
    });

    it("the syncrestore queries people already use work on the jobs table unchanged (README's store-query blocks)", async () => {
      const q = await open();
      await q.add(syncJob('h:p/a', 'r:p/a', { blocks: 2 * 1024 * 1024, files: 7 }));
      await q.add(syncJob('h:p/b', 'r:p/b', { blocks: 1024, files: 3 }));
      await q.claim({ worker: 'w' });
      const queries = readmeQueries(backend.kind).filter((x) => x.name.startsWith('queue-'));
      expect(queries.map((x) => x.name)).toEqual(['queue-running', 'queue-left', 'queue-waiting', 'queue-failed', 'queue-pause-all', 'queue-resume-all']);
      const db = q.store.db;
      const rows = async (name: string) => (await sql.raw(queries.find((x) => x.name === name)!.sql).execute(db)).rows as Record<string, unknown>[];
      expect(await rows('queue-running')).toEqual([{ name: 'h:p/b -> r:p/b' }]);
      const left = (await rows('queue-left'))[0]!;
      expect(Object.values(left).map(Number)).toEqual([1, 2, 7]); // jobs, GB, files
      expect(await rows('queue-waiting')).toEqual([]);
      const parent = (await q.add(syncJob('h:p/m', 'r:p/m', { kind: 'migrate' }))).job;
      await q.add(syncJob('h:p/m/c', 'r:p/m/c', { kind: 'migrate', after: parent.id }));
      expect(await rows('queue-waiting')).toEqual([{ name: 'h:p/m/c -> r:p/m/c', waits_for: 'h:p/m -> r:p/m' }]);
      await q.cancel([parent.id]);
      await q.cancel([parent.id + 1]);
      expect((await rows('queue-failed')).sort((x, y) => String(x.name).localeCompare(String(y.name)))).toEqual([
        { name: 'h:p/m -> r:p/m', sync: 130, error: 'cancelled before it ran' },
        { name: 'h:p/m/c -> r:p/m/c', sync: 130, error: 'cancelled before it ran' },
      ]);
      await rows('queue-pause-all');
      expect((await q.list({ state: 'paused' })).length).toBe(1);
      await rows('queue-resume-all');
      expect((await q.list({ state: 'available' })).length).toBe(1);
    });

    it('processes claiming at once: no job claimed twice, every job done', async () => {
      const url = await backend.newUrl();
      const q = await open(url);
      const n = backend.kind === 'postgres' ? 200 : 100;
      const procs = backend.kind === 'postgres' ? 4 : 2;
      for (let i = 0; i < n; i++) await q.add(syncJob(`h${i % 5}:p/d${i}`, `r:p/d${i}`));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-claimer-'));
      const bundle = path.join(dir, 'claimer.cjs');
      await esbuild.build({
        entryPoints: [path.join(__dirname, 'claimer.ts')],
        outfile: bundle,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['pg-native'],
        logLevel: 'error',
      });
      fs.copyFileSync(path.join(root, 'node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm'), path.join(dir, 'node-sqlite3-wasm.wasm'));
      const results = await Promise.all(Array.from({ length: procs }, (_, i) => run(process.execPath, [bundle, url, `w${i}`], { timeout: 170_000 })));
      expect(results.map((r) => r.stderr)).toEqual(results.map(() => ''));
      const claimed = results.flatMap((r) => r.stdout.trim().split('\n').filter(Boolean).map(Number));
      expect(claimed.length).toBe(n);
      expect(new Set(claimed).size).toBe(n);
      // The table agrees: each job succeeded once, on its first attempt. (Which process took how
      // many is the scheduler's business: on a loaded machine one may drain the queue alone.)
      const jobs = await q.list({ limit: 10 * n });
      expect(jobs.filter((j) => j.state === 'success' && j.attempts === 1).length).toBe(n);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 180_000);
  });
}
