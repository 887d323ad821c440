/**
 * Failed jobs in `check`: the pure rule (core/monitor/jobs.ts) on jobs written and read back by the
 * real queue on a SQLite file, and the built CLI's `check --from-store` reading that store (no host
 * contacted: the hosts have no observations, which is its own finding).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedJobFindings } from '../../../src/core/monitor/jobs.js';
import { EXIT } from '../../../src/core/queue/job.js';
import { JobQueue, openStore } from '../../../src/store/store.js';
import { syncJob } from '../store/queueSuite.js';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist/cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-check-jobs-'));
const at = (s: number) => new Date(Date.UTC(2026, 11, 4, 6, 0, s));

/** One job of SRC -> DST claimed by w1 and finished with `sync` (and `error`), at second `s`. */
async function finished(q: JobQueue, src: string, dst: string, sync: number, s: number, error?: string): Promise<number> {
  const { job } = await q.add(syncJob(src, dst), at(s));
  const c = await q.claim({ worker: 'w1', now: at(s) });
  expect(c?.id).toBe(job.id);
  await q.finish(job.id, 'w1', { sync, error }, at(s + 1));
  return job.id;
}

beforeAll(() => {
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'ignore' });
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('failed jobs in check', () => {
  it('a pair whose newest finished job failed is a WARNING naming the job, the exit, the error and the retry; a later success or a cancel clears it', async () => {
    const file = path.join(tmp, 'rule', 'fleet.db');
    const store = await openStore(file);
    const q = new JobQueue(store);
    try {
      const refused = await finished(
        q,
        'off1:zfs-hdd/a',
        'ovh3:rpool/a',
        EXIT.needsOperator,
        0,
        'the plan destroys 2 snapshot(s) on ovh3\x1b[31m\nsecond line',
      );
      await finished(q, 'off1:zfs-hdd/b', 'ovh3:rpool/b', EXIT.failed, 10, 'zfs recv failed');
      await finished(q, 'off1:zfs-hdd/b', 'ovh3:rpool/b', 0, 20);
      await finished(q, 'off1:zfs-hdd/c', 'ovh3:rpool/c', EXIT.cancelled, 30, 'cancelled');
      await finished(q, 'off9:tank/x', 'ovh3:rpool/x', EXIT.failed, 40, 'off9 unreachable');
      const jobs = await q.list();
      const f = failedJobFindings(jobs, (j) => j.sourceHost !== 'off9');
      expect(f).toHaveLength(1);
      expect(f[0]).toMatchObject({ severity: 'warning', kind: 'job-failed', subject: 'off1:zfs-hdd/a->ovh3:rpool/a' });
      expect(f[0]!.message).toContain(`job ${refused} off1:zfs-hdd/a -> ovh3:rpool/a failed (exit 3, the plan needs an operator, attempt 1,`);
      expect(f[0]!.message).toContain('the plan destroys 2 snapshot(s) on ovh3\\x1b[31m; retry it with: zfs-fleet queue retry 1');
      expect(f[0]!.message).not.toContain('second line');
      expect(failedJobFindings(jobs).map((x) => x.subject)).toEqual(['off1:zfs-hdd/a->ovh3:rpool/a', 'off9:tank/x->ovh3:rpool/x']);
      // Retried and run to success: nothing left to report.
      await q.retry([refused]);
      expect((await q.claim({ worker: 'w2', now: at(50) }))?.id).toBe(refused);
      await q.finish(refused, 'w2', { sync: 0 }, at(51));
      expect(failedJobFindings(await q.list(), (j) => j.sourceHost !== 'off9')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('zfs-fleet check --from-store: the failed job of a pair in scope is in the output and the exit code; metrics does not print it', async () => {
    const dir = path.join(tmp, 'cli');
    const file = path.join(dir, 'fleet.db');
    const store = await openStore(file);
    const q = new JobQueue(store);
    try {
      await finished(q, 'off1:zfs-hdd/a', 'ovh3:rpool/a', EXIT.failed, 0, 'cannot receive: dataset is busy');
    } finally {
      await store.close();
    }
    const fleet = path.join(dir, 'fleet.json');
    fs.writeFileSync(fleet, JSON.stringify({ pairs: [{ source: 'off1:zfs-hdd/a', target: 'ovh3:rpool/a' }] }));
    const env = { ...process.env, ZFS_FLEET_NO_CACHE: '1', HOME: dir };
    const check = spawnSync(process.execPath, [cli, 'check', '--fleet', fleet, '--store', file, '--from-store', '--json'], { encoding: 'utf8', env });
    expect(check.stderr).toBe('');
    const report = JSON.parse(check.stdout) as { exitCode: number; findings: { kind: string; severity: string; message: string }[] };
    const jobs = report.findings.filter((f) => f.kind === 'job-failed');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.message).toMatch(
      /^job 1 off1:zfs-hdd\/a -> ovh3:rpool\/a failed \(exit 1, a step failed, attempt 1, .*\): cannot receive: dataset is busy; retry it with: zfs-fleet queue retry 1$/,
    );
    expect(check.status).toBe(report.exitCode);
    expect(report.exitCode).toBeGreaterThanOrEqual(1);
    const text = spawnSync(process.execPath, [cli, 'check', '--fleet', fleet, '--store', file, '--from-store'], { encoding: 'utf8', env });
    expect(text.stdout).toContain('job 1 off1:zfs-hdd/a -> ovh3:rpool/a failed');
    const metrics = spawnSync(process.execPath, [cli, 'metrics', '--fleet', fleet, '--store', file, '--from-store'], { encoding: 'utf8', env });
    expect(metrics.status).toBe(0);
    expect(metrics.stderr).not.toContain('job 1');
  }, 60_000);
});
