/** The VS Code face of the fleet tree: maps the core FleetTreeModel's NodeView to TreeItems. */
import * as vscode from 'vscode';
import type { Fleet } from '../core/fleet/fleet.js';
import { FleetTreeModel, type FleetNode } from '../core/fleet/treeModel.js';
import type { Logger } from '../core/log.js';
import { safeLine, safeText } from '../core/text.js';

export type { FleetNode } from '../core/fleet/treeModel.js';

export class FleetTreeProvider implements vscode.TreeDataProvider<FleetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FleetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** The data and its change events (onDidChangeHost, onDidChangeHostList): the other views subscribe there, not to this provider. */
  readonly model: FleetTreeModel;
  private readonly subscriptions: { dispose(): void }[];

  constructor(fleet: Fleet, logger?: Logger) {
    this.model = new FleetTreeModel(fleet, logger);
    this.subscriptions = [
      // A host's subtree is rebuilt from its new listing; firing for the host node redraws it and its children.
      this.model.onDidChangeHost(({ host }) => this.changed.fire(this.model.hostNode(host))),
      this.model.onDidChangeHostList(() => this.changed.fire(undefined)),
    ];
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.model.dispose();
    this.changed.dispose();
  }

  async loadHost(host: string, force: boolean): Promise<void> {
    await this.model.loadHost(host, force);
  }

  /** The host list changed: every view redraws from the root; new hosts load as they are shown. */
  reset(): void {
    this.model.hostsChanged();
  }

  forget(host: string): void {
    this.model.forget(host);
  }

  getChildren(node?: FleetNode): FleetNode[] {
    return this.model.children(node);
  }

  getParent(node: FleetNode): FleetNode | undefined {
    return this.model.parent(node);
  }

  getTreeItem(node: FleetNode): vscode.TreeItem {
    const v = this.model.view(node);
    const item = new vscode.TreeItem(safeLine(v.label), v.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = node.id;
    item.description = v.description === undefined ? undefined : safeLine(v.description);
    item.iconPath = new vscode.ThemeIcon(v.icon, v.iconColor ? new vscode.ThemeColor(v.iconColor) : undefined);
    item.contextValue = v.contextValue;
    if (v.tooltip) item.tooltip = safeText(v.tooltip);
    if (v.command) item.command = { command: v.command, title: 'Retry', arguments: [this.model.hostNode(node.host)] };
    return item;
  }

  /** Full tooltips only when hovered; values from hosts are appended as text, never as markdown. */
  resolveTreeItem(item: vscode.TreeItem, node: FleetNode): vscode.TreeItem {
    const rows = this.model.details(node);
    if (rows.length === 0) return item;
    const md = new vscode.MarkdownString();
    for (const [k, v] of rows) md.appendMarkdown(`**${k}:** `).appendText(safeLine(v)).appendMarkdown('  \n');
    item.tooltip = md;
    return item;
  }
}
