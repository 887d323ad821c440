/**
 * The Queue view's rows (src/ui/queue/rows.ts) from a real SQLite fleet store: jobs queued, claimed,
 * renewed, finished, paused and cancelled through the store's JobQueue (as `zfs-fleet queue` and
 * `zfs-fleet worker` do), read back the way the view reads them (readQueue), grouped by state.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/core/queue/job.js';
import { openStore, type FleetStore } from '../../../src/store/index.js';
import { JobQueue, type NewJob } from '../../../src/store/queue.js';
import { cancelConfirmation, queueRows, queueSummary, readQueue, selectedJobIds, type QueueRow } from '../../../src/ui/queue/rows.js';
import { syncJob } from '../store/queueSuite.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-queue-view-'));
const stores: FleetStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
async function newQueue(): Promise<JobQueue> {
  const s = await openStore(path.join(tmp, `q${++n}`, 'fleet.db'));
  stores.push(s);
  return new JobQueue(s);
}

const job = (ds: string, over: Partial<NewJob> = {}): NewJob => syncJob(`off1:zfs-hdd/${ds}`, `ovh3:rpool/${ds}`, over);

const T0 = Date.UTC(2026, 11, 5, 6, 0, 0);
const at = (s: number) => new Date(T0 + s * 1000);

describe('the Queue view from a real SQLite store', () => {
  let q: JobQueue;
  let rows: QueueRow[];
  const ids = { failed: 0, running: 0, stopping: 0, later: 0, first: 0, paused: 0, dropped: 0, ok2: 0, ok51: 0 };
  const group = (label: string) => rows.find((r) => r.label === label);
  const rowOf = (id: number) => rows.flatMap((r) => r.children ?? []).find((c) => c.node.kind === 'queue.job' && c.node.jobId === id);

  beforeAll(async () => {
    q = await newQueue();
    // 52 successes, each run by worker w1 and finished a second after the one before.
    for (let i = 0; i < 52; i++) {
      const j = (await q.add(job(`ok${i}`, { blocks: 4 }), at(i))).job;
      await q.claim({ worker: 'w1', now: at(i) });
      expect(await q.finish(j.id, 'w1', { sync: 0, bytesDone: 4096 }, at(i + 0.5))).toBe(true);
      if (i === 2) ids.ok2 = j.id;
      if (i === 51) ids.ok51 = j.id;
    }
    // A failed one: the plan needs an operator (exit 3), its error two lines, one with an escape byte from a host.
    const failed = (await q.add(job('failed', { blocks: 2048 }), at(100))).job;
    await q.claim({ worker: 'w2', now: at(100) });
    await q.finish(
      failed.id,
      'w2',
      { sync: EXIT.needsOperator, error: 'the plan destroys ovh3:rpool/failed@old\nreview it: zfs-fleet sync \x1b[31m--yes' },
      at(101),
    );
    ids.failed = failed.id;
    // Two running: one half done, one an operator asked to cancel.
    const running = (await q.add(job('running', { blocks: 1024, bytesTotal: 1024 * 1024 }), at(110))).job;
    await q.claim({ worker: 'w1', now: at(110), leaseSeconds: 1e6 });
    expect(await q.renew(running.id, 'w1', { bytesDone: 512 * 1024, leaseSeconds: 1e6 })).toBe('ok');
    ids.running = running.id;
    const stopping = (await q.add(job('stopping'), at(111))).job;
    await q.claim({ worker: 'w2', now: at(111), leaseSeconds: 1e6 });
    await q.cancel([stopping.id]);
    ids.stopping = stopping.id;
    // Waiting: priority 3 before the default 5; one paused, one cancelled before it ran.
    ids.later = (await q.add(job('later'), at(120))).job.id;
    ids.first = (await q.add(job('first', { priority: 3, blocks: 1024 * 1024 }), at(121))).job.id;
    ids.paused = (await q.add(job('paused', { blocks: 10 }), at(122))).job.id;
    await q.pause([ids.paused]);
    ids.dropped = (await q.add(job('dropped'), at(123))).job.id;
    await q.cancel([ids.dropped]);
    rows = queueRows(await readQueue(q), { now: T0 + 200_000 });
  });

  it('groups the jobs by state: Running, Available, Paused, Failed, Cancelled, Success (collapsed)', () => {
    expect(rows.map((r) => [r.label, r.description, r.expanded, r.contextValue])).toEqual([
      ['Running', '2 · 1.0 MiB+', true, 'zfs.queue.group.running'],
      ['Available', '2 · 1.0 GiB+', true, 'zfs.queue.group.available'],
      ['Paused', '1 · 10 KiB', true, 'zfs.queue.group.paused'],
      ['Failed', '1', true, 'zfs.queue.group.failed'],
      ['Cancelled', '1', true, 'zfs.queue.group.cancelled'],
      ['Success', '50 newest of 52', false, 'zfs.queue.group.success'],
    ]);
    expect(queueSummary({ running: 2, available: 2, paused: 1, failed: 1, cancelled: 1, success: 52 })).toBe('2 running · 2 waiting · 1 paused · 1 failed');
  });

  it('lists the waiting jobs in claim order and the successes newest first, the newest 50', () => {
    const jobIds = (label: string) => group(label)!.children!.map((c) => (c.node.kind === 'queue.job' ? c.node.jobId : -1));
    expect(jobIds('Available')).toEqual([ids.first, ids.later]);
    const ok = jobIds('Success');
    expect(ok).toHaveLength(50);
    expect(ok[0]).toBe(ids.ok51);
    expect(ok.at(-1)).toBe(ids.ok2);
  });

  it("a job row: its name, then id, priority, size, attempts, worker and a running job's progress", () => {
    const running = rowOf(ids.running)!;
    expect(running.label).toBe('off1:zfs-hdd/running -> ovh3:rpool/running');
    expect(running.description).toBe(`#${ids.running} · P5 · 1.0 MiB · 1 attempt · on w1 · 512 KiB of 1.0 MiB (50%)`);
    expect(running).toMatchObject({ icon: 'sync~spin', contextValue: 'zfs.queue.job.running' });
    expect(running.tooltip).toContainEqual(['Progress', '512 KiB of 1.0 MiB (50%)']);
    const stopping = rowOf(ids.stopping)!;
    expect(stopping.description).toBe(`#${ids.stopping} · P5 · size unknown · 1 attempt · on w2 · cancelling · 0 B done`);
    expect(stopping.contextValue).toBe('zfs.queue.job.running.cancelling');
    expect(rowOf(ids.first)!.description).toBe(`#${ids.first} · P3 · 1.0 GiB`);
    expect(rowOf(ids.first)!.contextValue).toBe('zfs.queue.job.available');
    expect(rowOf(ids.paused)!.contextValue).toBe('zfs.queue.job.paused');
    expect(rowOf(ids.dropped)!.contextValue).toBe('zfs.queue.job.cancelled');
    expect(rowOf(ids.ok51)!.description).toBe(`#${ids.ok51} · P5 · 4.0 KiB · 1 attempt · by w1`);
  });

  it("a failed job: its exit code and error's first line in the row, the whole error in the tooltip, host bytes escaped", () => {
    const failed = rowOf(ids.failed)!;
    expect(failed.description).toBe(`#${ids.failed} · P5 · 2.0 MiB · 1 attempt · by w2 · exit 3: the plan destroys ovh3:rpool/failed@old`);
    expect(failed).toMatchObject({ icon: 'error', contextValue: 'zfs.queue.job.failed' });
    expect(failed.tooltip).toContainEqual(['Error', 'the plan destroys ovh3:rpool/failed@old\nreview it: zfs-fleet sync \\x1b[31m--yes']);
    expect(failed.tooltip).toContainEqual(['State', 'failed (sync 3)']);
    expect(failed.tooltip.find(([k]) => k === 'Finished')?.[1]).toMatch(/^2026-12-0\d \d\d:\d\d \(2m ago\)$/);
  });

  it('what a command acts on: the jobs selected, a group row as the jobs it shows, each once', () => {
    const available = group('Available')!;
    const children = (g: { id: string }) => (g.id === available.node.id ? available.children!.map((c) => c.node) : []);
    expect(selectedJobIds([rowOf(ids.paused)!.node, available.node, rowOf(ids.first)!.node, 'x', undefined], children)).toEqual([
      ids.paused,
      ids.first,
      ids.later,
    ]);
    expect(selectedJobIds([], children)).toEqual([]);
  });

  it('the cancel confirmation names each job and what happens to it', async () => {
    const c = cancelConfirmation(await Promise.all([ids.running, ids.paused].map((id) => q.get(id))));
    expect(c.message).toBe('Cancel 2 jobs?');
    expect(c.button).toBe('Cancel 2 Jobs');
    expect(c.detail).toContain(`#${ids.running} off1:zfs-hdd/running -> ovh3:rpool/running (running on w1: the run is stopped)`);
    expect(c.detail).toContain(`#${ids.paused} off1:zfs-hdd/paused -> ovh3:rpool/paused (paused: it will not run)`);
    expect(c.detail).toMatch(/the target stays at its previous snapshot/);
    expect(cancelConfirmation([await q.get(ids.first)])).toMatchObject({ message: `Cancel job ${ids.first}?`, button: 'Cancel Job' });
  });

  it('an empty queue: no rows (the view shows its welcome text)', async () => {
    const empty = await newQueue();
    expect(queueRows(await readQueue(empty))).toEqual([]);
  });
});
