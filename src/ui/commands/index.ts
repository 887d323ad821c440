/** One registration table: id -> handler. The wrapper logs errors, shows them once, and treats a user's cancel as silent. */
import { demoteReplica, failOver, takeOver } from './failover.js';
import * as vscode from 'vscode';
import type { Command, FleetContext } from '../context.js';
import { UserCancelled } from '../userInput.js';
import { addHost, importSshHosts, removeHost } from './hosts.js';
import { importConfig } from './import.js';
import { createClone, destroySnapshots, holdSnapshot, promoteClone, releaseHold, renameDataset, setProperty, takeSnapshot } from './operations.js';
import { copyName, forgetPassphrases, openTerminal, showLog } from './misc.js';
import { refreshAll, refreshHealth, refreshHost, retryHost } from './refresh.js';
import { openTimeline, registerTimeline } from './timeline.js';
import { cancelJobs, pauseJobs, prioritizeJobs, refreshQueue, resumeJobs, retryJobs } from './queue.js';
import {
  addPair,
  diagnosePair,
  openPairDefinition,
  rebaseClone,
  refreshPairs,
  removePair,
  rollbackToSnapshot,
  showReplicationHistory,
  syncPair,
  syncPairWithOptions,
} from './replication.js';

/**
 * A command: its handler, whether it changes ZFS or the user's configuration (`mutating`: the
 * wrapper refuses it in an untrusted workspace, naming it, and package.json's enablement says
 * `isWorkspaceTrusted`). Test-only commands are not in this table (src/ui/testHooks.ts).
 */
export interface CommandSpec {
  run: Command;
  mutating?: string;
}

export const COMMANDS = {
  'zfsFleet.refreshAll': { run: refreshAll },
  'zfsFleet.refreshHost': { run: refreshHost },
  'zfsFleet.retryHost': { run: retryHost },
  'zfsFleet.addHost': { run: addHost },
  'zfsFleet.importSshHosts': { run: importSshHosts },
  'zfsFleet.removeHost': { run: removeHost },
  'zfsFleet.copyName': { run: copyName },
  'zfsFleet.openTerminal': { run: openTerminal },
  'zfsFleet.showLog': { run: showLog },
  'zfsFleet.forgetPassphrases': { run: forgetPassphrases },
  'zfsFleet.addPair': { run: addPair, mutating: 'Add Replication Pair' },
  'zfsFleet.removePair': { run: removePair, mutating: 'Remove Pair' },
  'zfsFleet.refreshPairs': { run: refreshPairs },
  'zfsFleet.openPairDefinition': { run: openPairDefinition },
  'zfsFleet.syncPair': { run: syncPair, mutating: 'Sync Pair' },
  'zfsFleet.syncPairWithOptions': { run: syncPairWithOptions, mutating: 'Sync Pair' },
  'zfsFleet.diagnosePair': { run: diagnosePair },
  'zfsFleet.rollbackToSnapshot': { run: rollbackToSnapshot, mutating: 'Roll Back to This Snapshot' },
  'zfsFleet.rebaseClone': { run: rebaseClone, mutating: 'Rebase Clone' },
  'zfsFleet.takeSnapshot': { run: takeSnapshot, mutating: 'Take Snapshot' },
  'zfsFleet.destroySnapshots': { run: destroySnapshots, mutating: 'Destroy Snapshots' },
  'zfsFleet.holdSnapshot': { run: holdSnapshot, mutating: 'Hold Snapshot' },
  'zfsFleet.releaseHold': { run: releaseHold, mutating: 'Release Hold' },
  'zfsFleet.createClone': { run: createClone, mutating: 'Create Clone' },
  'zfsFleet.promoteClone': { run: promoteClone, mutating: 'Promote Clone' },
  'zfsFleet.setProperty': { run: setProperty, mutating: 'Set Property' },
  'zfsFleet.renameDataset': { run: renameDataset, mutating: 'Rename Dataset' },
  'zfsFleet.failOver': { run: failOver, mutating: 'Fail Over' },
  'zfsFleet.takeOver': { run: takeOver, mutating: 'Take Over' },
  'zfsFleet.demoteReplica': { run: demoteReplica, mutating: 'Demote to Replica' },
  'zfsFleet.showReplicationHistory': { run: showReplicationHistory },
  'zfsFleet.openTimeline': { run: openTimeline },
  'zfsFleet.refreshHealth': { run: refreshHealth },
  'zfsFleet.importConfig': { run: importConfig, mutating: 'Import from syncoid/sanoid Config' },
  'zfsFleet.refreshQueue': { run: refreshQueue },
  'zfsFleet.pauseJob': { run: pauseJobs, mutating: 'Pause Job' },
  'zfsFleet.resumeJob': { run: resumeJobs, mutating: 'Resume Job' },
  'zfsFleet.retryJob': { run: retryJobs, mutating: 'Retry Job' },
  'zfsFleet.cancelJob': { run: cancelJobs, mutating: 'Cancel Job' },
  'zfsFleet.prioritizeJob': { run: prioritizeJobs, mutating: 'Change Job Priority' },
} satisfies Record<string, CommandSpec>;

export type CommandId = keyof typeof COMMANDS;

export function registerCommands(ctx: FleetContext): vscode.Disposable[] {
  const specs = Object.entries(COMMANDS) as [CommandId, CommandSpec][];
  const commands = specs.map(([id, spec]) => vscode.commands.registerCommand(id, (...args: unknown[]) => runCommand(ctx, id, spec, args)));
  // The timeline's panels and their serializer (registered at activation: onWebviewPanel restores them).
  return [...commands, ...registerTimeline(ctx)];
}

/** The one wrapper: trust for mutating commands, errors logged and shown once, a user's cancel silent. */
async function runCommand(ctx: FleetContext, id: CommandId, spec: CommandSpec, args: unknown[]): Promise<unknown> {
  try {
    if (spec.mutating) ctx.replication.requireTrust(spec.mutating);
    return await spec.run(ctx, args[0] as never, args[1] as never);
  } catch (e) {
    if (e instanceof UserCancelled || (e as Error)?.name === 'UserCancelled') return undefined;
    const msg = e instanceof Error ? e.message : String(e);
    ctx.log.error(`${id}: ${msg}`);
    void vscode.window.showErrorMessage(`ZFS Fleet: ${msg}`, 'Show Log').then((b) => b && ctx.log.show());
    return undefined;
  }
}
