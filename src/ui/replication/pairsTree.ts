/**
 * The Replication view (`zfsFleet.pairs`): one row per entry of the pairs store, a pair's state from
 * `pairState` computed from the listings of the Hosts view's model, so both views show the same data
 * and refresh together. Invalid entries are rows too, naming the entry and the reason. This file
 * only renders: the rows come from PairsStore (pairsStore.ts), the listings and their change events
 * from FleetTreeModel.
 */
import * as vscode from 'vscode';
import type { FleetTreeModel } from '../../core/fleet/treeModel.js';
import type { PairNode, PairsStore } from './pairsStore.js';
import { invalidPairView, validPairView, type PairView } from './pairView.js';

export { isPairNode, type PairNode } from './pairsStore.js';

export class PairsTreeProvider implements vscode.TreeDataProvider<PairNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<PairNode | undefined>();
  /** A pair's row changed (one of its hosts started or finished loading), or `undefined`: every row. */
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: { dispose(): void }[];

  constructor(
    private readonly store: PairsStore,
    private readonly hosts: FleetTreeModel,
  ) {
    this.subscriptions = [
      store.onDidChange(() => this.changed.fire(undefined)),
      // A host's listing starts or finishes loading: redraw the pairs that involve that host.
      hosts.onDidChangeHost(({ host }) => this.hostChanged(host)),
      hosts.onDidChangeHostList(() => this.changed.fire(undefined)),
    ];
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }

  private hostChanged(host: string): void {
    for (const p of this.store.loadedNodes()) {
      if (p.kind === 'pair' && (p.entry.pair.source.host === host || p.entry.pair.target.host === host)) this.changed.fire(p);
    }
  }

  /** The Hosts view's state of a host; starts loading it when nobody has yet. */
  private hostState(host: string) {
    const s = this.hosts.state(host);
    if (!s) void this.hosts.loadHost(host, false);
    return s;
  }

  /** The view of a node as plain data (tests read it). */
  view(node: PairNode): PairView {
    switch (node.kind) {
      case 'pair': {
        const p = node.entry.pair;
        return validPairView(node.entry, this.hostState(p.source.host), this.hostState(p.target.host), this.store.lastRun(p.id));
      }
      case 'invalid':
        return invalidPairView(node.entry);
      case 'notice':
        return {
          label: node.text,
          description: 'untrusted workspace',
          icon: 'shield',
          contextValue: 'zfs.pair.notice',
          tooltip: [['', node.detail]],
          hosts: 'ok',
        };
    }
  }

  async getChildren(node?: PairNode): Promise<PairNode[]> {
    if (node) return [];
    return this.store.allNodes();
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
