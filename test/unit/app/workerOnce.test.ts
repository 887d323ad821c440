/**
 * A draining worker (`worker --once`) on a real SQLite queue: it waits while jobs it cannot claim
 * yet wait for a job another worker runs (a migration's child after its parent), and ends when
 * nothing runs. The jobs' own runs are not the point here: the App is a stand-in whose pair lookup
 * fails, so a claimed job fails at once (runs against the lab: test/integration/cli-queue.test.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWorker } from '../../../src/app/worker.js';
import type { App } from '../../../src/app/services.js';
import { EXIT } from '../../../src/core/queue/job.js';
import { openStore, type FleetStore } from '../../../src/store/index.js';
import { JobQueue } from '../../../src/store/queue.js';
import { syncJob } from '../store/queueSuite.js';

const stores: FleetStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

async function queue(): Promise<JobQueue> {
  const s = await openStore(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'zf-once-')), 'fleet.db'));
  stores.push(s);
  return new JobQueue(s);
}

const app = { fleet: { reconnect: () => undefined } } as unknown as App;

function drain(q: JobQueue, log: string[]) {
  return runWorker(app, q, {
    worker: 'w-once',
    parallel: 1,
    leaseSeconds: 60,
    once: true,
    pollSeconds: 0.05,
    signal: new AbortController().signal,
    log: (l) => log.push(l),
    pairOf: () => {
      throw new Error('no pair here (stand-in App)');
    },
  });
}

describe('worker --once', () => {
  it("waits while a child's job waits for the parent another worker runs; claims it once the parent succeeded", async () => {
    const q = await queue();
    const parent = (await q.add(syncJob('h:p/m', 'r:p/m', { kind: 'migrate' }))).job;
    const child = (await q.add(syncJob('h:p/m/c', 'r:p/m/c', { kind: 'migrate', after: parent.id }))).job;
    expect((await q.claim({ worker: 'other' }))!.id).toBe(parent.id);
    const log: string[] = [];
    let ended = false;
    const done = drain(q, log).then((r) => ((ended = true), r));
    await new Promise((r) => setTimeout(r, 400));
    expect(ended).toBe(false);
    await q.finish(parent.id, 'other', { sync: 0 });
    const r = await done;
    expect(r).toEqual({ ran: 1, failed: 1, putBack: 0 });
    expect(await q.get(child.id)).toMatchObject({ worker: 'w-once', sync: EXIT.failed, attempts: 1 });
  });

  it('ends when what is left waits for a job that failed (nothing runs)', async () => {
    const q = await queue();
    const parent = (await q.add(syncJob('h:p/m', 'r:p/m', { kind: 'migrate' }))).job;
    await q.add(syncJob('h:p/m/c', 'r:p/m/c', { kind: 'migrate', after: parent.id }));
    await q.claim({ worker: 'other' });
    await q.finish(parent.id, 'other', { sync: EXIT.failed, error: 'boom' });
    expect(await drain(q, [])).toEqual({ ran: 0, failed: 0, putBack: 0 });
  });
});
