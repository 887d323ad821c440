/**
 * The Replication view (`zfsFleet.pairs`): a row per group of the fleet file with its replicas'
 * pairs as children, then one row per other entry of the pairs store, a pair's state from
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

type PairRow = Extract<PairNode, { kind: 'pair' }>;
/** A group of the fleet file: its replicas' pairs are its children. */
export interface GroupNode {
  kind: 'group';
  id: string;
  name: string;
  members: PairRow[];
}
export type ReplicationNode = PairNode | GroupNode;

export class PairsTreeProvider implements vscode.TreeDataProvider<ReplicationNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ReplicationNode | undefined>();
  /** The group rows as last returned (a host change redraws the group of a pair too). */
  private groups = new Map<string, GroupNode>();
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
      if (p.kind === 'pair' && (p.entry.pair.source.host === host || p.entry.pair.target.host === host)) {
        this.changed.fire(p);
        const g = p.entry.pair.group !== undefined ? this.groups.get(p.entry.pair.group) : undefined;
        if (g) this.changed.fire(g);
      }
    }
  }

  /** The Hosts view's state of a host; starts loading it when nobody has yet. */
  private hostState(host: string) {
    const s = this.hosts.state(host);
    if (!s) void this.hosts.loadHost(host, false);
    return s;
  }

  /** The view of a node as plain data (tests read it). */
  view(node: ReplicationNode): PairView {
    switch (node.kind) {
      case 'group':
        return this.groupView(node);
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

  /** A group: how many replicas are in sync, the worst icon of its members. */
  private groupView(g: GroupNode): PairView {
    const views = g.members.map((m) => this.view(m));
    const inSync = views.filter((v) => v.state?.status === 'in-sync').length;
    const worst = views.find((v) => v.iconColor === 'errorForeground') ?? views.find((v) => v.iconColor === 'list.warningForeground');
    const primary = g.members[0]!.entry.pair.source;
    return {
      label: g.name,
      description: `${primary.host}:${primary.name!.full} → ${g.members.length} replica(s), ${inSync} in sync`,
      icon: 'layers',
      ...(worst?.iconColor ? { iconColor: worst.iconColor } : inSync === views.length ? { iconColor: 'testing.iconPassed' } : {}),
      contextValue: 'zfs.group',
      tooltip: [
        ['Group', g.name],
        ['Primary', `${primary.host}:${primary.name!.full}`],
        ...g.members.map((m, i): [string, string] => [
          `Replica ${i + 1}`,
          `${m.entry.pair.target.host}:${m.entry.pair.target.name!.full}: ${views[i]!.description}`,
        ]),
      ],
      hosts: views.some((v) => v.hosts === 'unreachable') ? 'unreachable' : views.some((v) => v.hosts === 'loading') ? 'loading' : 'ok',
    };
  }

  async getChildren(node?: ReplicationNode): Promise<ReplicationNode[]> {
    if (node) return node.kind === 'group' ? node.members : [];
    // A group's row where its first replica is; its other replicas join it.
    const rows: ReplicationNode[] = [];
    const groups = new Map<string, GroupNode>();
    for (const n of await this.store.allNodes()) {
      const name = n.kind === 'pair' ? n.entry.pair.group : undefined;
      if (n.kind !== 'pair' || name === undefined) {
        rows.push(n);
        continue;
      }
      const g = groups.get(name);
      if (g) g.members.push(n);
      else {
        const node: GroupNode = { kind: 'group', id: `group:${name}`, name, members: [n] };
        groups.set(name, node);
        rows.push(node);
      }
    }
    this.groups = groups;
    return rows;
  }

  getParent(node: ReplicationNode): ReplicationNode | undefined {
    return node.kind === 'pair' && node.entry.pair.group !== undefined ? this.groups.get(node.entry.pair.group) : undefined;
  }

  getTreeItem(node: ReplicationNode): vscode.TreeItem {
    const v = this.view(node);
    const item = new vscode.TreeItem(v.label, node.kind === 'group' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
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
