/**
 * The Queue view (`zfsFleet.queue`): the jobs of the fleet store's queue (the store of the
 * `zfsFleet.store` setting, as `zfs-fleet queue ls` reads it), grouped by state. Rows are built by
 * rows.ts (pure); this file opens the store on first use (the store's bundle is loaded lazily, as
 * for the run history), reads it every 5 s while the view is visible (never while it is hidden),
 * and maps rows to TreeItems. The queue commands (src/ui/commands/queue.ts) act through `queue()`
 * and refresh the view.
 */
import * as vscode from 'vscode';
import { treeItemOf } from '../treeRow.js';
import type { Logger } from '../../core/log.js';
import type { Job } from '../../core/queue/job.js';
import { safeLine } from '../../core/text.js';
import { defaultStoreUrl } from '../../store/location.js';
import type { JobQueue } from '../../store/queue.js';
import { readSettings, SECTION } from '../settings.js';
import { messageRow, queueRows, queueSummary, readQueue, type QueueNode, type QueueRow } from './rows.js';

export const QUEUE_VIEW = 'zfsFleet.queue';
/** How often the view reads the store while it is visible. */
export const QUEUE_POLL_MS = 5000;

export interface QueueViewDeps {
  logger: Logger;
  /** The store's URL (default: the `zfsFleet.store` setting, else `$ZFS_FLEET_STORE`, else the default file, as the CLI). */
  storeUrl?: () => string;
  pollMs?: number;
}

/** The Queue view of an activation, by its extension context (the queue commands find it there). */
const views = new WeakMap<object, QueueView>();

export function queueViewOf(ctx: { extension: object }): QueueView {
  const v = views.get(ctx.extension);
  if (!v) throw new Error('the Queue view is not open');
  return v;
}

export class QueueView implements vscode.TreeDataProvider<QueueNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<QueueNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly didRead = new vscode.EventEmitter<QueueRow[]>();
  /** A read ended (tests wait for it). */
  readonly onDidRead = this.didRead.event;
  readonly view: vscode.TreeView<QueueNode>;
  private rows: QueueRow[] = [];
  private readonly byId = new Map<string, QueueRow>();
  private readonly byJob = new Map<number, Job>();
  private read0 = false;
  private opened?: { url: string; queue: Promise<JobQueue> };
  private reading?: Promise<QueueRow[]>;
  private again = false;
  private poll?: ReturnType<typeof setInterval>;
  private lastError?: string;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    owner: vscode.ExtensionContext,
    private readonly deps: QueueViewDeps,
  ) {
    this.view = vscode.window.createTreeView<QueueNode>(QUEUE_VIEW, { treeDataProvider: this, canSelectMany: true, showCollapseAll: true });
    views.set(owner, this);
    this.disposables.push(
      this.changed,
      this.didRead,
      this.view,
      this.view.onDidChangeVisibility(() => this.schedulePolling()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(`${SECTION}.store`)) return;
        void this.closeStore();
        if (this.view.visible) void this.refresh();
      }),
      { dispose: () => (clearInterval(this.poll), void this.closeStore(), views.delete(owner)) },
    );
    this.schedulePolling();
  }

  dispose(): void {
    for (const d of this.disposables.reverse()) d.dispose();
  }

  private url(): string {
    return this.deps.storeUrl?.() ?? readSettings().store ?? defaultStoreUrl();
  }

  /** The store's queue, opened on first use (and again when the setting names another store, or opening failed). */
  queue(): Promise<JobQueue> {
    const url = this.url();
    if (this.opened?.url !== url) {
      void this.closeStore();
      const queue = (async () => {
        // Loaded on first use: the store's bundle (Kysely, pg, SQLite's WebAssembly) is not read at activation.
        const { openStore, JobQueue } = await import('../../store/store.js');
        return new JobQueue(await openStore(url));
      })();
      const opened = { url, queue };
      this.opened = opened;
      queue.catch(() => {
        if (this.opened === opened) this.opened = undefined; // the next read tries again (a store that was down may be back)
      });
    }
    return this.opened!.queue;
  }

  private async closeStore(): Promise<void> {
    const o = this.opened;
    this.opened = undefined;
    const q = await o?.queue.catch(() => undefined);
    await q?.store.close().catch(() => {});
  }

  /** Poll while the view is visible: read now, then every 5 s; hidden: no reads at all. */
  private schedulePolling(): void {
    clearInterval(this.poll);
    this.poll = undefined;
    if (!this.view.visible) return;
    void this.refresh();
    this.poll = setInterval(() => {
      if (!this.reading) void this.refresh();
    }, this.deps.pollMs ?? QUEUE_POLL_MS);
  }

  /** Read the queue again; a read under way is followed by one more, never two at once. Resolves to the rows shown. */
  async refresh(): Promise<QueueRow[]> {
    if (this.reading) {
      this.again = true;
      await this.reading.catch(() => undefined);
      return this.reading ?? this.rows;
    }
    this.reading = this.read();
    try {
      return await this.reading;
    } finally {
      this.reading = undefined;
      if (this.again) {
        this.again = false;
        void this.refresh();
      }
    }
  }

  private async read(): Promise<QueueRow[]> {
    if (!this.read0) this.setRows([messageRow('reading', 'Reading the queue…', 'loading~spin')]);
    try {
      const { jobs, totals } = await readQueue(await this.queue());
      this.read0 = true;
      this.byJob.clear();
      for (const j of jobs) this.byJob.set(j.id, j);
      this.setRows(queueRows({ jobs, totals }));
      this.view.message = undefined;
      this.view.description = queueSummary(totals ?? {}) || undefined;
      this.lastError = undefined;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== this.lastError) this.deps.logger.warn(`Queue: the fleet store cannot be read: ${msg}`);
      this.lastError = msg;
      const text = `The queue cannot be read: ${msg}`;
      if (this.read0) this.view.message = safeLine(text);
      else this.setRows([messageRow('error', text, 'error', 'problemsErrorIcon.foreground')]);
    }
    this.didRead.fire(this.rows);
    return this.rows;
  }

  private setRows(rows: QueueRow[]): void {
    this.rows = rows;
    this.byId.clear();
    const walk = (rs: QueueRow[]) => {
      for (const r of rs) {
        this.byId.set(r.node.id, r);
        if (r.children) walk(r.children);
      }
    };
    walk(rows);
    this.changed.fire(undefined);
  }

  /** A job as last read (undefined: not shown). */
  job(id: number): Job | undefined {
    return this.byJob.get(id);
  }

  /** Every job as last read (the Success group: the newest only). */
  jobs(): Job[] {
    return [...this.byJob.values()];
  }

  /** The rows shown, as plain data (tests read them). */
  allRows(): QueueRow[] {
    return this.rows;
  }

  getChildren(node?: QueueNode): QueueNode[] {
    if (!node) return this.rows.map((r) => r.node);
    return (this.byId.get(node.id)?.children ?? []).map((r) => r.node);
  }

  getParent(): undefined {
    return undefined;
  }

  getTreeItem(node: QueueNode): vscode.TreeItem {
    const r = this.byId.get(node.id);
    return r ? treeItemOf(r) : new vscode.TreeItem('…');
  }
}
