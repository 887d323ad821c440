/**
 * The Replication view (`zfsFleet.pairs`): one row per pair with its state from `pairState`,
 * computed from the listings the Hosts view holds, so both views show the same data and refresh
 * together. Invalid entries are rows too, naming the entry and the reason.
 */
import * as vscode from 'vscode';
import type { HistoryEntry } from '../../core/execute/history.js';
import type { FleetTreeProvider } from '../tree.js';
import { describeOrigin, type InvalidPair, type ValidPair } from '../../core/fleet/pairSpecs.js';
import { readPairsConfig, type PairsConfig } from './pairsConfig.js';
import { invalidPairView, validPairView, type PairView } from './pairView.js';

export type PairNode =
  | { kind: 'pair'; id: string; entry: ValidPair }
  | { kind: 'invalid'; id: string; entry: InvalidPair }
  | { kind: 'notice'; id: string; text: string; detail: string; file?: string };

export function isPairNode(x: unknown): x is Extract<PairNode, { kind: 'pair' }> {
  return !!x && typeof x === 'object' && (x as PairNode).kind === 'pair' && typeof (x as { entry?: ValidPair }).entry?.pair?.id === 'string';
}

export class PairsTreeProvider implements vscode.TreeDataProvider<PairNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<PairNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private config: PairsConfig = { entries: [], files: new Map(), ignoredFiles: [] };
  private nodes: PairNode[] = [];
  private loaded?: Promise<void>;
  private lastRuns = new Map<string, HistoryEntry>();
  private readonly subscriptions: { dispose(): void }[] = [];

  constructor(
    private readonly hosts: FleetTreeProvider,
    private readonly trusted: () => boolean,
    private readonly readHistory: () => Promise<HistoryEntry[]>,
  ) {
    // The Hosts model fires when a host's listing starts or finishes loading: redraw the pairs that
    // involve that host; when the host list changed: every row.
    this.subscriptions.push(
      hosts.model.onDidChangeHost(({ host }) => {
        for (const p of this.nodes) {
          if (p.kind === 'pair' && (p.entry.pair.source.host === host || p.entry.pair.target.host === host)) this.changed.fire(p);
        }
      }),
      hosts.model.onDidChangeHostList(() => this.changed.fire(undefined)),
    );
  }

  dispose(): void {
    this.changed.dispose();
    for (const s of this.subscriptions) s.dispose();
  }

  /** Read the pairs again (settings or the workspace file changed, trust granted). */
  reload(): Promise<void> {
    this.loaded = this.load();
    return this.loaded;
  }

  private async load(): Promise<void> {
    const [config, history] = await Promise.all([readPairsConfig(this.trusted()), this.readHistory().catch(() => [] as HistoryEntry[])]);
    this.config = config;
    this.lastRuns = new Map();
    for (const h of history) if (h.pair && !this.lastRuns.has(h.pair)) this.lastRuns.set(h.pair, h);
    const nodes: PairNode[] = config.entries.map((e, i) =>
      e.ok ? { kind: 'pair', id: `pair:${e.pair.id}`, entry: e } : { kind: 'invalid', id: `invalid:${i}:${describeOrigin(e.origin)}`, entry: e },
    );
    for (const f of config.ignoredFiles) {
      nodes.push({ kind: 'notice', id: `ignored:${f}`, text: `${f} ignored`, detail: `${f} is not read because this workspace is not trusted: its pairs name hosts to connect to. Trust the workspace to use them.`, file: f });
    }
    this.nodes = nodes;
    this.changed.fire(undefined);
  }

  /** The history changed (a plan ran): the tooltips' "last run". */
  async historyChanged(): Promise<void> {
    const history = await this.readHistory().catch(() => [] as HistoryEntry[]);
    this.lastRuns = new Map();
    for (const h of history) if (h.pair && !this.lastRuns.has(h.pair)) this.lastRuns.set(h.pair, h);
    this.changed.fire(undefined);
  }

  /** The valid pairs, after the configuration has been read. */
  async pairs(): Promise<ValidPair[]> {
    await (this.loaded ?? this.reload());
    return this.config.entries.filter((e): e is ValidPair => e.ok);
  }

  async allNodes(): Promise<PairNode[]> {
    await (this.loaded ?? this.reload());
    return this.nodes;
  }

  fileUri(display: string): vscode.Uri | undefined {
    return this.config.files.get(display);
  }

  /** The Hosts view's state of a host; starts loading it when nobody has yet. */
  private hostState(host: string) {
    const s = this.hosts.model.state(host);
    if (!s) void this.hosts.loadHost(host, false);
    return s;
  }

  /** The view of a node as plain data (tests read it). */
  view(node: PairNode): PairView {
    switch (node.kind) {
      case 'pair': {
        const p = node.entry.pair;
        return validPairView(node.entry, this.hostState(p.source.host), this.hostState(p.target.host), this.lastRuns.get(p.id));
      }
      case 'invalid':
        return invalidPairView(node.entry);
      case 'notice':
        return { label: node.text, description: 'untrusted workspace', icon: 'shield', contextValue: 'zfs.pair.notice', tooltip: [['', node.detail]], hosts: 'ok' };
    }
  }

  /** The listings of a pair's hosts are loaded by the Hosts view; force: ask the hosts again. */
  async refreshHosts(force: boolean): Promise<void> {
    const hosts = new Set<string>();
    for (const n of await this.allNodes()) if (n.kind === 'pair') hosts.add(n.entry.pair.source.host).add(n.entry.pair.target.host);
    await Promise.all([...hosts].map((h) => (force || !this.hosts.model.state(h) ? this.hosts.loadHost(h, force) : undefined)));
  }

  async getChildren(node?: PairNode): Promise<PairNode[]> {
    if (node) return [];
    return this.allNodes();
  }

  getTreeItem(node: PairNode): vscode.TreeItem {
    const v = this.view(node);
    const item = new vscode.TreeItem(v.label, vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = v.description;
    item.iconPath = new vscode.ThemeIcon(v.icon, v.iconColor ? new vscode.ThemeColor(v.iconColor) : undefined);
    item.contextValue = v.contextValue;
    const md = new vscode.MarkdownString();
    for (const [k, val] of v.tooltip) {
      if (k) md.appendMarkdown(`**${k}:** `);
      md.appendText(val).appendMarkdown('  \n');
    }
    item.tooltip = md;
    if (node.kind === 'invalid') item.command = { command: 'zfsFleet.openPairDefinition', title: 'Open Definition', arguments: [node] };
    return item;
  }
}
