/**
 * The Queue view inside a real VS Code (code-server), on a fleet store of its own (the user setting
 * `zfsFleet.store`: a temp SQLite file, see test/e2e/queue/run.mjs). The jobs are written through
 * the extension's own store bundle (dist/fleet-store.js: JobQueue, as `zfs-fleet queue` and a worker
 * write them); the view's commands run through the real command table and wrapper, the user's
 * answers scripted. No host is contacted.
 */
/// <reference types="mocha" />
import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TestApi } from '../../../../src/extension.js';
import type { Job } from '../../../../src/core/queue/job.js';
import type { FleetStore, JobQueue } from '../../../../src/store/store.js';
import type { QueueNode, QueueRow } from '../../../../src/ui/queue/rows.js';
import { ScriptedInput } from '../../replication/suite/scriptedInput.js';

type StoreModule = typeof import('../../../../src/store/store.js');

let api: TestApi;
let store: FleetStore;
let q: JobQueue;
const input = new ScriptedInput();
const ids = { running: 0, failed: 0, first: 0, later: 0 };

const refresh = async () => (await vscode.commands.executeCommand<QueueRow[]>('zfsFleet.refreshQueue')) ?? [];

/** Polls `read` until `ok` holds (a loaded machine: generous limits), else fails with the last value. */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const labels = (rows: QueueRow[]) => rows.map((r) => `${r.label} ${r.children?.length ?? 0}`);
const rowOf = (rows: QueueRow[], id: number) => rows.flatMap((r) => r.children ?? []).find((c) => c.node.kind === 'queue.job' && c.node.jobId === id);
const nodeOf = (rows: QueueRow[], id: number): QueueNode => {
  const r = rowOf(rows, id);
  assert.ok(r, `no row of job ${id} in ${labels(rows).join(', ')}`);
  return r.node;
};

function job(ds: string, priority?: number) {
  const src = `off1:zfs-hdd/e2e-queue/${ds}`;
  const dst = `ovh3:rpool/e2e-queue/${ds}`;
  return {
    name: `${src} -> ${dst}`,
    spec: { kind: 'sync' as const, source: src, target: dst },
    pairId: `${src}->${dst}`,
    sourceHost: 'off1',
    targetHost: 'ovh3',
    blocks: 1024,
    bytesTotal: 1024 * 1024,
    ...(priority ? { priority } : {}),
  };
}

suite('Queue view (a fleet store of its own)', function () {
  this.timeout(120_000);

  suiteSetup(async function () {
    const file = vscode.workspace.getConfiguration('zfsFleet').get<string>('store');
    assert.ok(file && file === process.env.ZFS_FLEET_E2E_STORE, `zfsFleet.store is ${file}, not the suite's store (run test/e2e/queue/run.mjs)`);
    const ext = vscode.extensions.getExtension<TestApi>('zfs-fleet.zfs-fleet');
    assert.ok(ext, 'extension zfs-fleet.zfs-fleet not found');
    api = (await ext.activate())!;
    api.setUserInput(input);
    const { openStore, JobQueue } = createRequire(__filename)(path.join(ext.extensionPath, 'dist', 'fleet-store.js')) as StoreModule;
    store = await openStore(file);
    q = new JobQueue(store);
    // A running job half done (its worker's lease long), a failed one, two waiting.
    ids.running = (await q.add(job('running'))).job.id;
    await q.claim({ worker: 'e2e-worker', leaseSeconds: 3600 });
    assert.equal(await q.renew(ids.running, 'e2e-worker', { bytesDone: 512 * 1024, leaseSeconds: 3600 }), 'ok');
    ids.failed = (await q.add(job('failed'))).job.id;
    await q.claim({ worker: 'e2e-worker' });
    await q.finish(ids.failed, 'e2e-worker', { sync: 3, error: 'the plan destroys ovh3:rpool/e2e-queue/failed@old' });
    ids.first = (await q.add(job('first', 3))).job.id;
    ids.later = (await q.add(job('later'))).job.id;
  });

  suiteTeardown(async function () {
    api?.setUserInput(undefined);
    await store?.close();
  });

  test('the Queue view opens in the ZFS Fleet sidebar and shows the jobs by state', async () => {
    await vscode.commands.executeCommand('zfsFleet.queue.focus');
    const rows = await until(refresh, (r) => r.length === 3, 'the Queue rows');
    assert.deepEqual(labels(rows), ['Running 1', 'Available 2', 'Failed 1']);
    assert.equal(rowOf(rows, ids.running)!.description, `#${ids.running} · P5 · 1.0 MiB · 1 attempt · on e2e-worker · 512 KiB of 1.0 MiB (50%)`);
    assert.deepEqual(
      rows[1]!.children!.map((c) => c.label),
      ['off1:zfs-hdd/e2e-queue/first -> ovh3:rpool/e2e-queue/first', 'off1:zfs-hdd/e2e-queue/later -> ovh3:rpool/e2e-queue/later'],
    );
    assert.deepEqual(
      rowOf(rows, ids.failed)!.tooltip.find(([k]) => k === 'Error'),
      ['Error', 'the plan destroys ovh3:rpool/e2e-queue/failed@old'],
    );
  });

  test('Pause on two selected rows pauses both; Resume puts one back', async () => {
    let rows = await refresh();
    const both = [nodeOf(rows, ids.first), nodeOf(rows, ids.later)];
    const paused = await vscode.commands.executeCommand<Job[]>('zfsFleet.pauseJob', both[0], both);
    assert.deepEqual(
      paused?.map((j) => j.state),
      ['paused', 'paused'],
    );
    rows = await refresh();
    assert.deepEqual(labels(rows), ['Running 1', 'Paused 2', 'Failed 1']);
    await vscode.commands.executeCommand('zfsFleet.resumeJob', nodeOf(rows, ids.later));
    assert.equal((await q.get(ids.later)).state, 'available');
    assert.equal((await q.get(ids.first)).state, 'paused');
  });

  test("the store's refusal changes nothing: Pause on a running job", async () => {
    const rows = await refresh();
    const r = await vscode.commands.executeCommand('zfsFleet.pauseJob', nodeOf(rows, ids.running));
    assert.equal(r, undefined); // the wrapper showed "cannot pause job N: it is running; …"
    assert.equal((await q.get(ids.running)).state, 'running');
  });

  test('Change Priority… sets the priority picked', async () => {
    input.script({ quickPick: (items) => items[0] });
    await vscode.commands.executeCommand('zfsFleet.prioritizeJob', nodeOf(await refresh(), ids.later));
    assert.equal((await q.get(ids.later)).priority, 1);
    assert.deepEqual(
      input.of('quickPick')[0]!.items!.map((i) => i.label),
      ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
    );
  });

  test('Cancel… names the jobs in a modal; declined nothing changes; confirmed, the running job is asked to stop', async () => {
    const rows = await refresh();
    const nodes = [nodeOf(rows, ids.running), nodeOf(rows, ids.first)];
    input.script({ warnModal: () => undefined });
    await vscode.commands.executeCommand('zfsFleet.cancelJob', nodes[0], nodes);
    const modal = input.of('warnModal')[0]!;
    assert.equal(modal.message, 'Cancel 2 jobs?');
    assert.match(modal.detail!, new RegExp(`#${ids.running} .* \\(running on e2e-worker: the run is stopped\\)`));
    assert.match(modal.detail!, /the target stays at its previous snapshot/);
    assert.equal((await q.get(ids.first)).state, 'paused');
    input.script({ warnModal: (_m, _d, buttons) => buttons[0] });
    const changed = await vscode.commands.executeCommand<Job[]>('zfsFleet.cancelJob', nodes[0], nodes);
    assert.equal(changed?.length, 2);
    assert.equal((await q.get(ids.first)).state, 'cancelled');
    assert.equal((await q.get(ids.running)).cancelRequested, true);
    // The worker sees the cancel at its renewal and ends the job cancelled.
    assert.equal(await q.renew(ids.running, 'e2e-worker', { leaseSeconds: 3600 }), 'cancel');
    await q.finish(ids.running, 'e2e-worker', { sync: 130, error: 'cancelled (queue cancel): the target stays at its previous snapshot' });
    const after = await until(refresh, (r) => !r.some((g) => g.label === 'Running'), 'the running job to end');
    assert.deepEqual(labels(after), ['Available 1', 'Failed 1', 'Cancelled 2']);
  });

  test('Retry on the Failed group retries its jobs', async () => {
    const failedGroup = (await refresh()).find((r) => r.label === 'Failed')!;
    await vscode.commands.executeCommand('zfsFleet.retryJob', failedGroup.node);
    assert.equal((await q.get(ids.failed)).state, 'available');
    assert.deepEqual(labels(await refresh()), ['Available 2', 'Cancelled 2']);
  });
});
