/**
 * Reads the replication pairs: the setting `zfsFleet.pairs` and `.zfs-fleet.json` at the root of
 * each workspace folder (only in a trusted workspace: host names from an untrusted repository are
 * never connected to). Writes pairs to the settings.
 */
import * as vscode from 'vscode';
import type { PairSpec } from '../../core/fleet/pairs.js';
import { SECTION } from '../settings.js';
import { collectPairs, PAIRS_FILE, type PairEntry, type PairsFile } from '../../core/fleet/pairSpecs.js';

export interface PairsConfig {
  entries: PairEntry[];
  /** Display path -> URI of the workspace files read. */
  files: Map<string, vscode.Uri>;
  /** Workspace files present but ignored (untrusted workspace). */
  ignoredFiles: string[];
}

function settingsScope(): 'user' | 'workspace' | 'folder' {
  const info = vscode.workspace.getConfiguration(SECTION).inspect('pairs');
  return info?.workspaceFolderValue !== undefined ? 'folder' : info?.workspaceValue !== undefined ? 'workspace' : 'user';
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

export async function readPairsConfig(trusted: boolean): Promise<PairsConfig> {
  const value = vscode.workspace.getConfiguration(SECTION).get<unknown>('pairs');
  const folders = vscode.workspace.workspaceFolders ?? [];
  const files: PairsFile[] = [];
  const uris = new Map<string, vscode.Uri>();
  const ignoredFiles: string[] = [];
  for (const folder of folders) {
    const uri = vscode.Uri.joinPath(folder.uri, PAIRS_FILE);
    const display = folders.length > 1 ? `${folder.name}/${PAIRS_FILE}` : PAIRS_FILE;
    if (!trusted) {
      if (await exists(uri)) {
        ignoredFiles.push(display);
        uris.set(display, uri);
      }
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await vscode.workspace.fs.readFile(uri);
    } catch (e) {
      if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') continue;
      if (!(await exists(uri))) continue;
      uris.set(display, uri);
      files.push({ file: display, error: (e as Error).message });
      continue;
    }
    uris.set(display, uri);
    files.push({ file: display, text: new TextDecoder().decode(bytes) });
  }
  return { entries: collectPairs({ value, scope: settingsScope() }, files), files: uris, ignoredFiles };
}

/** Where `zfsFleet.pairs` is written: where it is defined now (workspace or user settings), else the user settings. */
function pairsTarget(): vscode.ConfigurationTarget {
  const info = vscode.workspace.getConfiguration(SECTION).inspect<unknown[]>('pairs');
  return info?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder : info?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}

export async function addPairSetting(spec: PairSpec): Promise<void> {
  const c = vscode.workspace.getConfiguration(SECTION);
  const target = pairsTarget();
  const info = c.inspect<unknown[]>('pairs');
  const current = target === vscode.ConfigurationTarget.WorkspaceFolder ? info?.workspaceFolderValue : target === vscode.ConfigurationTarget.Workspace ? info?.workspaceValue : info?.globalValue;
  await c.update('pairs', [...(Array.isArray(current) ? current : []), spec], target);
}

/** Remove the entries for which `match` is true from every settings level that has them; how many were removed. */
export async function removePairSettings(match: (entry: unknown) => boolean): Promise<number> {
  const c = vscode.workspace.getConfiguration(SECTION);
  const info = c.inspect<unknown[]>('pairs');
  let removed = 0;
  const levels: [unknown, vscode.ConfigurationTarget][] = [
    [info?.workspaceFolderValue, vscode.ConfigurationTarget.WorkspaceFolder],
    [info?.workspaceValue, vscode.ConfigurationTarget.Workspace],
    [info?.globalValue, vscode.ConfigurationTarget.Global],
  ];
  for (const [value, target] of levels) {
    if (!Array.isArray(value)) continue;
    const kept = value.filter((e) => !match(e));
    if (kept.length === value.length) continue;
    removed += value.length - kept.length;
    await c.update('pairs', kept, target);
  }
  return removed;
}
