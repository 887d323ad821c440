/**
 * The Queue view (src/ui/queue/view.ts) and its commands (src/ui/commands/queue.ts) on a real SQLite
 * fleet store, with VS Code's tree view replaced by a small fake (a `visible` flag and its event) and
 * the user's answers scripted (UserInput): the view reads the store only while visible; Pause,
 * Resume, Retry, Cancel… and Change Priority… change the store through JobQueue and refresh the view;
 * the store's refusal is the command's error, in the store's words.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openStore, type FleetStore } from '../../../src/store/index.js';
import { JobQueue, type NewJob } from '../../../src/store/queue.js';
import { cancelJobs, pauseJobs, prioritizeJobs, refreshQueue, resumeJobs, retryJobs } from '../../../src/ui/commands/queue.js';
import type { FleetContext } from '../../../src/ui/context.js';
import type { QueueNode, QueueRow } from '../../../src/ui/queue/rows.js';
import { QueueView } from '../../../src/ui/queue/view.js';
import type { UserInput } from '../../../src/ui/userInput.js';
import { syncJob } from '../store/queueSuite.js';

const fake = vi.hoisted(() => ({ views: [] as { visible: boolean; setVisible(v: boolean): void; message?: string; description?: string }[] }));

vi.mock('vscode', () => {
  class EventEmitter<T> {
    private listeners: ((e: T) => void)[] = [];
    event = (l: (e: T) => void) => {
      this.listeners.push(l);
      return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
    };
    fire(e: T) {
      for (const l of [...this.listeners]) l(e);
    }
    dispose() {
      this.listeners = [];
    }
  }
  return {
    EventEmitter,
    window: {
      createTreeView: () => {
        const visibility = new EventEmitter<{ visible: boolean }>();
        const v = {
          visible: false,
          message: undefined,
          description: undefined,
          onDidChangeVisibility: visibility.event,
          setVisible(visible: boolean) {
            v.visible = visible;
            visibility.fire({ visible });
          },
          dispose() {},
        };
        fake.views.push(v);
        return v;
      },
    },
    workspace: { onDidChangeConfiguration: () => ({ dispose() {} }) },
    TreeItem: class {
      constructor(
        public label: string,
        public collapsibleState: number,
      ) {}
    },
    ThemeIcon: class {
      constructor(
        public id: string,
        public color?: unknown,
      ) {}
    },
    ThemeColor: class {
      constructor(public id: string) {}
    },
    MarkdownString: class {
      value = '';
      appendMarkdown(s: string) {
        this.value += s;
        return this;
      }
      appendText(s: string) {
        this.value += s;
        return this;
      }
    },
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  };
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zfs-fleet-queue-cmds-'));
const stores: FleetStore[] = [];
const views: QueueView[] = [];
afterEach(() => {
  for (const v of views.splice(0)) v.dispose();
});
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  fs.rmSync(tmp, { recursive: true, force: true });
});

const job = (ds: string, over: Partial<NewJob> = {}): NewJob => syncJob(`off1:zfs-hdd/${ds}`, `ovh3:rpool/${ds}`, over);

const logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Answers every question with what the test scripted, and records the questions. */
function scripted(answers: Partial<UserInput>): UserInput & { asked: unknown[][] } {
  const asked: unknown[][] = [];
  const no = (what: string) => () => {
    throw new Error(`unexpected question: ${what}`);
  };
  const record =
    <A extends unknown[], R>(what: string, f: ((...a: A) => R) | undefined) =>
    (...a: A) => {
      asked.push([what, ...a]);
      return (f ?? no(what))(...a);
    };
  return {
    asked,
    warnModal: record('warnModal', answers.warnModal),
    info: record('info', answers.info),
    inputBox: record('inputBox', answers.inputBox),
    pickMany: record('pickMany', answers.pickMany),
    quickPick: record('quickPick', answers.quickPick) as UserInput['quickPick'],
    confirmTyped: record('confirmTyped', answers.confirmTyped),
    warn: record('warn', answers.warn),
    error: record('error', answers.error),
    openFile: record('openFile', answers.openFile),
  };
}

let n = 0;
/** A store with jobs, the view on it (visible), and a context for the commands. */
async function setup(input: Partial<UserInput> = {}, o: { visible?: boolean; pollMs?: number } = {}) {
  const url = path.join(tmp, `s${++n}`, 'fleet.db');
  const store = await openStore(url);
  stores.push(store);
  const q = new JobQueue(store);
  const ids = {
    running: (await q.add(job('running'))).job.id,
    a: 0,
    b: 0,
    paused: 0,
    failed1: 0,
    failed2: 0,
  };
  await q.claim({ worker: 'w1', leaseSeconds: 1e6 });
  for (const f of ['failed1', 'failed2'] as const) {
    ids[f] = (await q.add(job(f))).job.id;
    await q.claim({ worker: 'w1' });
    await q.finish(ids[f], 'w1', { sync: 1, error: `${f}: zfs receive failed` });
  }
  ids.a = (await q.add(job('a'))).job.id;
  ids.b = (await q.add(job('b'))).job.id;
  ids.paused = (await q.add(job('paused'))).job.id;
  await q.pause([ids.paused]);
  const owner = {};
  const view = new QueueView(owner as never, { logger, storeUrl: () => url, pollMs: o.pollMs ?? 60_000 });
  views.push(view);
  const fakeView = fake.views.at(-1)!;
  if (o.visible ?? true) fakeView.setVisible(true);
  const ui = scripted(input);
  const ctx = { extension: owner, input: ui } as unknown as FleetContext;
  await view.refresh();
  const nodeOf = (id: number): QueueNode => ({ kind: 'queue.job', id: `queue/job/${id}`, jobId: id, state: view.job(id)!.state });
  const groupOf = (label: string) => view.allRows().find((r) => r.label === label);
  return { q, ids, view, fakeView, ctx, ui, nodeOf, groupOf };
}

const labels = (rows: QueueRow[]) => rows.map((r) => `${r.label} ${r.children?.length ?? 0}`);

describe('the Queue view and its commands on a real SQLite store', () => {
  it('reads the store only while the view is visible: every poll interval, and not at all when hidden', async () => {
    const { view, fakeView } = await setup({}, { visible: false, pollMs: 40 });
    let reads = 0;
    view.onDidRead(() => reads++);
    reads = 0;
    await new Promise((r) => setTimeout(r, 300));
    expect(reads).toBe(0);
    fakeView.setVisible(true);
    await vi.waitFor(() => expect(reads).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 20 });
    expect(labels(view.allRows())).toEqual(['Running 1', 'Available 2', 'Paused 1', 'Failed 2']);
    expect(fakeView.description).toBe('1 running · 2 waiting · 1 paused · 2 failed');
    fakeView.setVisible(false);
    await new Promise((r) => setTimeout(r, 200)); // a read under way ends
    const after = reads;
    await new Promise((r) => setTimeout(r, 300));
    expect(reads).toBe(after);
  });

  it('Pause on the selected jobs pauses them and the view shows it; Resume puts them back', async () => {
    const { q, ids, view, ctx, nodeOf } = await setup();
    const paused = await pauseJobs(ctx, nodeOf(ids.a) as never, [nodeOf(ids.a), nodeOf(ids.b)] as never);
    expect((paused as { id: number; state: string }[]).map((j) => [j.id, j.state])).toEqual([
      [ids.a, 'paused'],
      [ids.b, 'paused'],
    ]);
    expect(labels(view.allRows())).toEqual(['Running 1', 'Paused 3', 'Failed 2']);
    await resumeJobs(ctx, nodeOf(ids.b) as never, undefined);
    expect((await q.get(ids.b)).state).toBe('available');
    expect(view.job(ids.b)!.state).toBe('available');
  });

  it("the store's refusal is the command's error, in its words; nothing changed; the view read again", async () => {
    const { q, ids, view, ctx, nodeOf } = await setup();
    let reads = 0;
    view.onDidRead(() => reads++);
    await expect(pauseJobs(ctx, nodeOf(ids.a) as never, [nodeOf(ids.a), nodeOf(ids.running)] as never)).rejects.toThrow(
      new RegExp(`^cannot pause job ${ids.running}: it is running; only an available job can be paused`),
    );
    expect((await q.get(ids.a)).state).toBe('available');
    expect(reads).toBe(1);
  });

  it('Retry on the Failed group retries every failed job it shows', async () => {
    const { q, ids, ctx, groupOf } = await setup();
    await retryJobs(ctx, groupOf('Failed')!.node as never, undefined);
    expect((await Promise.all([ids.failed1, ids.failed2].map((id) => q.get(id)))).map((j) => j.state)).toEqual(['available', 'available']);
  });

  it('Cancel… asks in a modal naming the jobs; no answer changes nothing; confirmed, a running job is asked to stop', async () => {
    const modal: { answer?: string } = {};
    const { q, ids, ctx, ui, nodeOf } = await setup({ warnModal: async () => modal.answer });
    const nodes = [nodeOf(ids.running), nodeOf(ids.paused)];
    await expect(cancelJobs(ctx, nodes[0] as never, nodes as never)).rejects.toThrow('cancelled'); // the user's cancel: silent in the wrapper
    expect((await q.get(ids.paused)).state).toBe('paused');
    const [what, message, detail, button] = ui.asked[0]!;
    expect([what, message, button]).toEqual(['warnModal', 'Cancel 2 jobs?', 'Cancel 2 Jobs']);
    expect(detail).toContain(`#${ids.running} off1:zfs-hdd/running -> ovh3:rpool/running (running on w1: the run is stopped)`);
    modal.answer = 'Cancel 2 Jobs';
    await cancelJobs(ctx, nodes[0] as never, nodes as never);
    expect(await q.get(ids.paused)).toMatchObject({ state: 'cancelled', sync: 130 });
    expect(await q.get(ids.running)).toMatchObject({ state: 'running', cancelRequested: true });
  });

  it('Change Priority… offers 1 to 10 and sets the one picked on every job selected', async () => {
    const { q, ids, ctx, ui, nodeOf } = await setup({ quickPick: async (items) => items[0] });
    await prioritizeJobs(ctx, nodeOf(ids.a) as never, [nodeOf(ids.a), nodeOf(ids.b)] as never);
    const items = ui.asked[0]![1] as { label: string; description: string }[];
    expect(items.map((i) => i.label)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(items[4]!.description).toBe('default, current');
    expect((await Promise.all([ids.a, ids.b].map((id) => q.get(id)))).map((j) => j.priority)).toEqual([1, 1]);
  });

  it('from the palette (no row): the jobs the action applies to are offered', async () => {
    const { q, ids, ctx, ui } = await setup({ pickMany: async (items) => items.filter((i) => i.includes('/b ')) });
    await pauseJobs(ctx, undefined, undefined);
    expect(ui.asked[0]![1]).toEqual([
      `#${ids.a} off1:zfs-hdd/a -> ovh3:rpool/a (available, priority 5)`,
      `#${ids.b} off1:zfs-hdd/b -> ovh3:rpool/b (available, priority 5)`,
    ]);
    expect((await q.get(ids.b)).state).toBe('paused');
    expect((await q.get(ids.a)).state).toBe('available');
  });

  it('Refresh returns the rows shown; a tree item says its row (a group with jobs expanded, Success collapsed)', async () => {
    const { q, ctx, view } = await setup();
    await q.add(job('done'));
    const claimed = (await q.claim({ worker: 'w9' }))!;
    await q.finish(claimed.id, 'w9', { sync: 0 });
    const rows = (await refreshQueue(ctx)) as QueueRow[];
    expect(labels(rows)).toEqual(['Running 1', 'Available 2', 'Paused 1', 'Failed 2', 'Success 1']);
    const item = (r: QueueRow) => view.getTreeItem(r.node) as unknown as { label: string; collapsibleState: number; contextValue: string; id: string };
    expect(item(rows[0]!)).toMatchObject({ label: 'Running', collapsibleState: 2, contextValue: 'zfs.queue.group.running', id: 'queue/group/running' });
    expect(item(rows[4]!)).toMatchObject({ label: 'Success', collapsibleState: 1 });
    expect(item(rows[4]!.children![0]!)).toMatchObject({ label: claimed.name, collapsibleState: 0, contextValue: 'zfs.queue.job.success' });
  });
});
