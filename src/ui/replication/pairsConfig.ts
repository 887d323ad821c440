/**
 * Reads the replication pairs: the setting `zfsFleet.pairs` (through settings.ts) and the fleet file
 * `.zfs-fleet.json` at the root of each workspace folder (its hosts, groups and pairs) (only in a trusted workspace: host names
 * from an untrusted repository are never connected to).
 */
import * as vscode from 'vscode';
import { readPairsSetting } from '../settings.js';
import { collectDefinition } from '../../core/fleet/definition.js';
import { PAIRS_FILE, type PairEntry, type PairsFile } from '../../core/fleet/pairSpecs.js';

export interface PairsConfig {
  entries: PairEntry[];
  /** The hosts the workspace fleet files define (`hosts`), shown in the Hosts view with those of zfsFleet.hosts. */
  hosts: string[];
  /** Display path -> URI of the workspace files read. */
  files: Map<string, vscode.Uri>;
  /** Workspace files present but ignored (untrusted workspace). */
  ignoredFiles: string[];
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
  const setting = readPairsSetting();
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
  const def = collectDefinition(setting, files);
  return { entries: def.entries, hosts: def.hosts.map((h) => h.name), files: uris, ignoredFiles };
}

/** Writing pairs to the settings lives in settings.ts with the other settings; re-exported for the commands that import it from here. */
export { addPairSetting, removePairSettings } from '../settings.js';
