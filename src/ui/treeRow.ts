/**
 * A row of a tree view built from plain data (the Fleet Health and Queue views): the rows modules
 * compute them without vscode (unit-tested), this turns one into the TreeItem VS Code shows.
 */
import * as vscode from 'vscode';

export interface TreeRow<N extends { id: string }> {
  node: N;
  label: string;
  description?: string;
  /** A codicon id. */
  icon: string;
  /** A theme colour id for the icon. */
  iconColor?: string;
  contextValue: string;
  /** Hover rows: label, value (shown as text, never markdown). */
  tooltip: [string, string][];
  children?: TreeRow<N>[];
  expanded?: boolean;
}

/** The row's TreeItem; its texts are the rows module's, already escaped (hosts' and the store's text is untrusted). */
export function treeItemOf<N extends { id: string }>(r: TreeRow<N>): vscode.TreeItem {
  const state = r.children?.length
    ? r.expanded
      ? vscode.TreeItemCollapsibleState.Expanded
      : vscode.TreeItemCollapsibleState.Collapsed
    : vscode.TreeItemCollapsibleState.None;
  const item = new vscode.TreeItem(r.label, state);
  item.id = r.node.id;
  item.description = r.description;
  item.iconPath = new vscode.ThemeIcon(r.icon, r.iconColor ? new vscode.ThemeColor(r.iconColor) : undefined);
  item.contextValue = r.contextValue;
  if (r.tooltip.length) {
    const md = new vscode.MarkdownString();
    for (const [k, v] of r.tooltip) {
      if (k) md.appendMarkdown(`**${k}:** `);
      md.appendText(v).appendMarkdown('  \n');
    }
    item.tooltip = md;
  }
  return item;
}
