/**
 * The replication side of the extension, built once in activate(): the pairs store and the
 * Replication view that renders it, the read-only documents (plan previews, diagnoses, history),
 * the history (shared with the CLI), and what keeps them current (settings, the workspace file,
 * workspace trust).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { defaultHistoryFile, History, type RunLog } from '../../app/history.js';
import { StoreRunLog } from '../../store/runLog.js';
import { readSettings, SECTION } from '../settings.js';
import type { FleetTreeModel } from '../../core/fleet/treeModel.js';
import { DOC_SCHEME, ReadOnlyDocuments } from './documents.js';
import { PAIRS_FILE } from '../../core/fleet/pairSpecs.js';
import { PairsStore } from './pairsStore.js';
import { PairsTreeProvider, type ReplicationNode } from './pairsTree.js';

export class Replication implements vscode.Disposable {
  readonly docs = new ReadOnlyDocuments();
  readonly history: RunLog;
  /** The pairs (settings, .zfs-fleet.json) and their last runs; fires onDidChange. */
  readonly pairs: PairsStore;
  /** The Replication view's TreeDataProvider: renders `pairs` with the Hosts model's listings. */
  readonly pairsView: PairsTreeProvider;
  readonly view: vscode.TreeView<ReplicationNode>;
  /** Tests only: pretend the workspace is (not) trusted. */
  trustOverride?: boolean;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(context: vscode.ExtensionContext, hosts: FleetTreeModel) {
    // Runs go to the fleet store the CLI uses too; the history files kept before are imported into it once.
    const legacy = path.join(context.globalStorageUri.fsPath, 'replication-history.jsonl');
    this.history = process.env.ZFS_FLEET_HISTORY
      ? new History(process.env.ZFS_FLEET_HISTORY)
      : new StoreRunLog(readSettings().store, [defaultHistoryFile(), legacy]);
    this.pairs = new PairsStore(
      hosts,
      () => this.isTrusted(),
      async () => (await this.history.read(500)).entries,
    );
    this.pairsView = new PairsTreeProvider(this.pairs, hosts);
    this.view = vscode.window.createTreeView<ReplicationNode>('zfsFleet.pairs', { treeDataProvider: this.pairsView });
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${PAIRS_FILE}`);
    const reload = () => void this.pairs.reload();
    this.disposables.push(
      this.docs,
      this.pairs,
      this.pairsView,
      this.view,
      vscode.workspace.registerTextDocumentContentProvider(DOC_SCHEME, this.docs),
      watcher,
      watcher.onDidCreate(reload),
      watcher.onDidChange(reload),
      watcher.onDidDelete(reload),
      vscode.workspace.onDidChangeWorkspaceFolders(reload),
      vscode.workspace.onDidGrantWorkspaceTrust(reload),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.pairs`)) reload();
      }),
    );
    reload();
  }

  isTrusted(): boolean {
    return this.trustOverride ?? vscode.workspace.isTrusted;
  }

  /** The runtime half of the workspace-trust rule (the menus' `when` is the other half). */
  requireTrust(what: string): void {
    if (!this.isTrusted())
      throw new Error(
        `${what} is not available in an untrusted workspace: it changes ZFS on your hosts. Trust the workspace first (Workspaces: Manage Workspace Trust).`,
      );
  }

  dispose(): void {
    for (const d of this.disposables.reverse()) d.dispose();
    void this.history.close?.();
  }
}
