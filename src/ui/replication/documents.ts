/**
 * Read-only virtual documents (scheme `zfs-fleet`): plan previews, diagnosis reports, the history.
 * The content lives here, keyed by URI; VS Code shows such documents read-only.
 */
import * as vscode from 'vscode';
import { safeText } from '../../core/text.js';

export const DOC_SCHEME = 'zfs-fleet';

export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private n = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '(this document is no longer available: run the command again)';
  }

  /**
   * A URI for a document named `name` (the tab title; its extension picks the language). With `key`,
   * the same key gives the same URI (the history, re-shown with new content); without, a new one.
   */
  uri(name: string, key?: string): vscode.Uri {
    const safe = name.replace(/[\\/:*?"<>|\n\r\t]+/g, '_').slice(0, 120);
    return vscode.Uri.from({ scheme: DOC_SCHEME, path: `/${safe}`, query: key ?? String(++this.n) });
  }

  /** Host text is in every document: control bytes are escaped (safeText) before VS Code shows it. */
  set(uri: vscode.Uri, content: string): void {
    this.contents.set(uri.toString(), safeText(content));
    this.changed.fire(uri);
    // Keep the last 50 documents.
    if (this.contents.size > 50) this.contents.delete(this.contents.keys().next().value!);
  }

  get(uri: vscode.Uri): string | undefined {
    return this.contents.get(uri.toString());
  }

  /** Set the content and show it in an editor (read-only). */
  async show(name: string, content: string, options: { key?: string; preserveFocus?: boolean } = {}): Promise<vscode.Uri> {
    const uri = this.uri(name, options.key);
    this.set(uri, content);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: false, preserveFocus: options.preserveFocus ?? false });
    return uri;
  }

  dispose(): void {
    this.changed.dispose();
    this.contents.clear();
  }
}
