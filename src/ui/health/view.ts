/**
 * The Fleet Health view (`zfsFleet.health`) and its status bar item. The data is a HealthSource
 * (app/health.ts): the live one reads the hosts through the Hosts view's model (so both views show
 * the same listings and a refresh of one updates the other), the pairs from the pairs store, the
 * runs from the history, and judges them with `zfs-fleet check`'s evaluateCheck. Rows are built by
 * rows.ts (pure); this file only maps them to TreeItems, keeps them current (the model's and the
 * store's change events, the poll interval, Refresh) and draws the status bar item.
 */
import * as vscode from 'vscode';
import { treeItemOf } from '../treeRow.js';
import { liveHealthSource, type HealthSnapshot, type HealthSource } from '../../app/health.js';
import type { RunLog } from '../../app/history.js';
import type { Fleet } from '../../core/fleet/fleet.js';
import type { HostListing } from '../../core/fleet/listing.js';
import type { PairEntry } from '../../core/fleet/pairSpecs.js';
import type { FleetTreeModel } from '../../core/fleet/treeModel.js';
import { formatTime } from '../../core/format.js';
import type { Logger } from '../../core/log.js';
import { safeLine } from '../../core/text.js';
import type { PairsStore } from '../replication/pairsStore.js';
import { readSettings, SECTION } from '../settings.js';
import { healthRows, messageRow, statusSummary, type HealthNode, type HealthRow } from './rows.js';

export const HEALTH_VIEW = 'zfsFleet.health';

/** The live source of the extension: listings through the Hosts view's model, asked again only when forced or never listed. */
export function extensionHealthSource(deps: { fleet: Fleet; model: FleetTreeModel; pairs: PairsStore; runLog: RunLog; trusted: () => boolean }): HealthSource {
  const listing = async (host: string, force: boolean): Promise<HostListing> => {
    const s = force ? undefined : deps.model.state(host);
    // Being listed now (by the Hosts view, say): wait for that listing rather than start another.
    if (s?.state === 'loading') return deps.fleet.host(host).listing(false);
    const state = s ?? (await deps.model.loadHost(host, force));
    if (state.state === 'error') throw state.error;
    if (state.state === 'ok') return state.listing;
    return deps.fleet.host(host).listing(false);
  };
  return liveHealthSource({
    hosts: () => (deps.trusted() ? deps.fleet.names : []),
    listing,
    pairs: async () => (await deps.pairs.allNodes()).flatMap((n): PairEntry[] => (n.kind === 'pair' || n.kind === 'invalid' ? [n.entry] : [])),
    runLog: deps.runLog,
    thresholds: () => readSettings().healthThresholds,
  });
}

export class FleetHealth implements vscode.TreeDataProvider<HealthNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<HealthNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<HealthNode>;
  readonly statusItem: vscode.StatusBarItem;
  /** The last snapshot read (undefined before the first read ends). */
  snapshot?: HealthSnapshot;
  private rows: HealthRow[] = [];
  private readonly byId = new Map<string, HealthRow>();
  /** When each host last answered (ms), kept across reads: an offline host shows when it was last seen. */
  private readonly lastSeen = new Map<string, number>();
  private reading?: Promise<HealthSnapshot | undefined>;
  private again?: { force: boolean };
  private debounce?: ReturnType<typeof setTimeout>;
  private poll?: ReturnType<typeof setInterval>;
  private readonly changedSnapshot = new vscode.EventEmitter<HealthSnapshot>();
  /** A read ended (tests wait for it). */
  readonly onDidRead = this.changedSnapshot.event;
  private readonly disposables: vscode.Disposable[] = [];
  /** Whether the status bar item is shown (the API cannot be asked; tests read this). */
  statusShown = false;

  constructor(
    private readonly source: HealthSource,
    private readonly deps: { model: FleetTreeModel; pairs: PairsStore; fleet: Fleet; trusted: () => boolean; logger: Logger },
  ) {
    this.view = vscode.window.createTreeView<HealthNode>(HEALTH_VIEW, { treeDataProvider: this, showCollapseAll: true });
    this.statusItem = vscode.window.createStatusBarItem('zfsFleet.healthStatus', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'ZFS Fleet Health';
    this.statusItem.command = { command: `${HEALTH_VIEW}.focus`, title: 'Show Fleet Health' };
    const soon = () => this.soon();
    this.disposables.push(
      this.changed,
      this.changedSnapshot,
      this.view,
      this.statusItem,
      // A host finished loading (a Refresh in the Hosts view, a plan that ran): judge again from the listings at hand, without listing.
      deps.model.onDidChangeHost(({ state }) => {
        if (state !== 'loading' && !this.reading) soon();
      }),
      deps.model.onDidChangeHostList(soon),
      deps.pairs.onDidChange(soon),
      vscode.workspace.onDidGrantWorkspaceTrust(soon),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.pollIntervalSeconds`)) this.schedulePolling();
        if (['staleAfter', 'capacityWarnPercent', 'capacityCritPercent'].some((k) => e.affectsConfiguration(`${SECTION}.${k}`))) soon();
      }),
      { dispose: () => (clearTimeout(this.debounce), clearInterval(this.poll)) },
    );
    this.schedulePolling();
    this.drawStatus();
    void this.refresh(false);
  }

  dispose(): void {
    for (const d of this.disposables.reverse()) d.dispose();
  }

  private soon(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.refresh(false), 500);
  }

  private schedulePolling(): void {
    clearInterval(this.poll);
    this.poll = undefined;
    const seconds = readSettings().pollIntervalSeconds;
    if (seconds > 0) this.poll = setInterval(() => void this.refresh(true), seconds * 1000);
  }

  /** Read the health again (force: list the hosts again); a read under way is followed by one more, never run twice at once. */
  async refresh(force: boolean): Promise<HealthSnapshot | undefined> {
    if (this.reading) {
      this.again = { force: force || (this.again?.force ?? false) };
      await this.reading;
      return this.reading ?? this.snapshot;
    }
    this.reading = this.read(force);
    try {
      return await this.reading;
    } finally {
      this.reading = undefined;
      const next = this.again;
      this.again = undefined;
      if (next) void this.refresh(next.force);
    }
  }

  private async read(force: boolean): Promise<HealthSnapshot | undefined> {
    if (!this.deps.trusted() || this.deps.fleet.names.length === 0) {
      this.snapshot = undefined;
      this.setRows([]);
      this.view.description = undefined;
      this.drawStatus();
      return undefined;
    }
    // The first read: a row saying so (an empty view would show the "no hosts" welcome).
    if (!this.snapshot) this.setRows([messageRow('checking', 'Checking the fleet…', 'loading~spin')]);
    try {
      const s = await this.source.read({ force });
      for (const h of s.facts.hosts) if (h.up) this.lastSeen.set(h.host, h.listedAt ?? s.readAt);
      this.snapshot = s;
      this.setRows(healthRows(s, this.lastSeen));
      this.view.message = undefined;
      this.view.description = `checked ${formatTime(s.readAt / 1000).slice(11)}${s.from === 'store' ? ' (store)' : ''}`;
      this.drawStatus();
      this.changedSnapshot.fire(s);
      return s;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.deps.logger.error(`Fleet Health: ${msg}`);
      const text = `The fleet's health could not be read: ${msg}`;
      if (this.snapshot) this.view.message = safeLine(text);
      else this.setRows([messageRow('error', text, 'error', 'problemsErrorIcon.foreground')]);
      return undefined;
    }
  }

  private setRows(rows: HealthRow[]): void {
    this.rows = rows;
    this.byId.clear();
    const walk = (rs: HealthRow[]) => {
      for (const r of rs) {
        this.byId.set(r.node.id, r);
        if (r.children) walk(r.children);
      }
    };
    walk(rows);
    this.changed.fire(undefined);
  }

  /** The row of a node as plain data (tests read it). */
  row(node: HealthNode): HealthRow | undefined {
    return this.byId.get(node.id);
  }

  /** Every row, depth first (tests read them). */
  allRows(): HealthRow[] {
    return [...this.byId.values()];
  }

  private drawStatus(): void {
    const s = this.snapshot;
    if (!this.deps.trusted() || !s) {
      // Untrusted: no host is connected, nothing to report (as the Hosts view); before the first read: nothing yet.
      this.statusItem.hide();
      this.statusShown = false;
      return;
    }
    const sum = statusSummary(s);
    this.statusItem.text = sum.text;
    this.statusItem.accessibilityInformation = { label: `ZFS Fleet Health: ${sum.text.replace(/^\$\([\w-]+\) /, '')}`, role: 'button' };
    this.statusItem.backgroundColor =
      sum.level === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : sum.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    const md = new vscode.MarkdownString();
    md.appendMarkdown('**ZFS Fleet Health**  \n');
    if (sum.lines.length === 0) md.appendText(`No problems: ${s.facts.hosts.length} host(s), ${s.facts.pairs.length} pair(s) checked`);
    for (const l of sum.lines) md.appendText(l).appendMarkdown('  \n');
    md.appendMarkdown('  \n').appendText(`Checked ${formatTime(s.readAt / 1000)}`);
    this.statusItem.tooltip = md;
    this.statusItem.show();
    this.statusShown = true;
  }

  getChildren(node?: HealthNode): HealthNode[] {
    if (!node) return this.rows.map((r) => r.node);
    return (this.byId.get(node.id)?.children ?? []).map((r) => r.node);
  }

  getParent(): undefined {
    return undefined;
  }

  getTreeItem(node: HealthNode): vscode.TreeItem {
    const r = this.byId.get(node.id);
    return r ? treeItemOf(r) : new vscode.TreeItem('…');
  }
}
