import * as vscode from 'vscode';
import { nodeName } from '../../core/fleet/treeModel.js';
import type { Command } from '../context.js';
import { readSettings } from '../settings.js';
import { openSshArgs } from '../terminal.js';
import { selection } from '../selection.js';
import { isHealthNode } from '../health/rows.js';

export const copyName: Command = async (_ctx, node, nodes) => {
  const names = selection(node, nodes)
    .map(nodeName)
    .filter((n): n is string => !!n);
  if (names.length) await vscode.env.clipboard.writeText(names.join('\n'));
};

/** A terminal on the host of a Hosts view node or of a Fleet Health row (a host, its pool, a host or dataset problem), else a picked host. */
export const openTerminal: Command = async (ctx, node) => {
  const arg: unknown = node;
  const of = isHealthNode(arg) ? ('host' in arg ? arg.host : undefined) : node?.host;
  const host = of ?? (await vscode.window.showQuickPick([...ctx.fleet.names], { title: 'Open a terminal on' }));
  if (!host) return;
  const s = readSettings();
  const term =
    host === 'local'
      ? vscode.window.createTerminal({ name: 'ZFS: local' })
      : vscode.window.createTerminal({ name: `ZFS: ${host}`, shellPath: 'ssh', shellArgs: openSshArgs(host, s.sshConfigPath, s.knownHostsPath) });
  term.show();
};

export const showLog: Command = (ctx) => ctx.log.show();

export const forgetPassphrases: Command = async (ctx) => {
  const keys: string[] = ctx.extension.globalState.get('zfsFleet.savedPassphraseKeys', []);
  await Promise.all(keys.map((k) => ctx.extension.secrets.delete(k)));
  await ctx.extension.globalState.update('zfsFleet.savedPassphraseKeys', []);
  await ctx.input.info(keys.length ? `Forgot ${keys.length} saved passphrase(s).` : 'No passphrases were saved.');
};
