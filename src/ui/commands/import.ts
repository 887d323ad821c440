/**
 * **Import from syncoid/sanoid Config…**: a syncoid argument file or a sanoid.conf (file picker), the
 * host it is on, then the same preview as `zfs-fleet import --write` (app/import.ts): what was found
 * with its warnings (a read-only document), the change to the workspace's `.zfs-fleet.json` (a diff
 * editor), and a modal before anything is written.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { fleetFileHosts, importSummary, previewImport, type ImportKind } from '../../app/import.js';
import { validateHostSpec } from '../../core/fleet/endpoint.js';
import { PAIRS_FILE } from '../../core/fleet/pairSpecs.js';
import { sshConfigHosts } from '../../transport/sshConfig.js';
import type { Command } from '../context.js';
import { readSettings } from '../settings.js';
import { pick, text, UserCancelled } from '../userInput.js';

/** The kind a file's name suggests: sanoid.conf, or one syncoid run per line. */
export function guessKind(file: string): ImportKind {
  const name = path.basename(file).toLowerCase();
  return name.includes('sanoid') && !name.includes('syncoid') ? 'sanoid' : 'syncoid-args';
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch (e) {
    if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') return undefined;
    throw e;
  }
}

export const importConfig: Command = async (ctx) => {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('Open the folder that holds (or will hold) the fleet file .zfs-fleet.json first.');
  const file = await ctx.input.openFile({
    title: 'Import from syncoid/sanoid Config',
    openLabel: 'Import',
    canSelectMany: false,
    filters: { 'syncoid arguments, sanoid.conf': ['conf', 'txt', 'args'], 'All files': ['*'] },
  });
  if (!file) throw new UserCancelled();
  const guess = guessKind(file.fsPath);
  const kinds = [
    { label: 'syncoid-args', what: 'syncoid-args' as const, description: 'one syncoid invocation per line: pairs' },
    { label: 'sanoid', what: 'sanoid' as const, description: 'sanoid.conf: retention and freshness per dataset' },
  ].sort((a) => (a.what === guess ? -1 : 1));
  const { what: kind } = await pick(ctx.input, kinds, { title: `What is ${path.basename(file.fsPath)}?` });
  const other = { label: 'Another host…', host: undefined };
  const chosen = await pick(ctx.input, [...ctx.fleet.names.map((h) => ({ label: h, host: h as string | undefined })), other], {
    title: `Which host is ${path.basename(file.fsPath)} on?`,
    placeHolder: kind === 'syncoid-args' ? 'its lines are run there: a remote source is a pull, a remote target a push' : 'the host sanoid runs on',
  });
  const host =
    chosen.host ??
    (
      await text(ctx.input, {
        title: 'The host the config is on',
        prompt: 'An ssh-config alias or [user@]host[:port]',
        validateInput: (v) => {
          try {
            validateHostSpec(v.trim());
            return undefined;
          } catch (e) {
            return (e as Error).message;
          }
        },
      })
    ).trim();

  const fleetUri = vscode.Uri.joinPath(folder.uri, PAIRS_FILE);
  const fleetText = await readText(fleetUri);
  const configText = await readText(file);
  if (configText === undefined) throw new Error(`${file.fsPath} cannot be read`);
  const fleetHosts = sshConfigHosts(readSettings().sshConfigPath, (m) => ctx.log.warn(m));
  for (const h of fleetFileHosts(fleetText)) if (!fleetHosts.some((x) => x.alias === h.alias)) fleetHosts.push(h);
  const label = path.basename(file.fsPath);
  const preview = previewImport({ kind, text: configText, label, host, fleetText, fleetPath: PAIRS_FILE, fleetHosts });
  const docs = ctx.replication.docs;
  await docs.show(`Import ${label}.txt`, [`${label} (on ${host}):`, ...importSummary(preview.result)].join('\n'));
  if (preview.diff === '') {
    void ctx.input.info(`${label}: nothing to change in ${PAIRS_FILE}.`);
    return { written: false, preview };
  }
  // The change to the fleet file, side by side (both sides read-only: nothing is written until the modal says so).
  const before = docs.uri(`${PAIRS_FILE} (now)`);
  docs.set(before, fleetText ?? '');
  const after = docs.uri(`${PAIRS_FILE} (after import).json`);
  docs.set(after, preview.merge.text);
  await vscode.commands.executeCommand('vscode.diff', before, after, `${PAIRS_FILE}: import ${label}`, { preview: false });
  const m = preview.merge;
  const warnings = preview.result.warnings.length;
  const answer = await ctx.input.warnModal(
    `Write the import of ${label} into ${PAIRS_FILE}?`,
    [
      `${m.addedPairs.length} pair(s), ${m.addedPolicies.length} policy(ies) and ${m.addedReach.length} host route(s) added; ${m.kept.length} entr(ies) already there kept as written.`,
      warnings ? `${warnings} warning(s): see the import document (lines not imported, flags not applied).` : 'No warnings.',
      'The diff editor shows the change.',
    ].join('\n'),
    'Write',
  );
  if (answer !== 'Write') throw new UserCancelled();
  await vscode.workspace.fs.writeFile(fleetUri, new TextEncoder().encode(m.text));
  await ctx.replication.pairs.reload();
  void ctx.input.info(`${PAIRS_FILE}: ${m.addedPairs.length} pair(s), ${m.addedPolicies.length} policy(ies), ${m.addedReach.length} host route(s) added.`);
  return { written: true, preview };
};
