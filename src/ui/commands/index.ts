/** One registration table: id -> handler. The wrapper logs errors, shows them once, and treats a user's cancel as silent. */
import * as vscode from 'vscode';
import type { Command, FleetContext } from '../context.js';
import { UserCancelled } from '../userInput.js';
import { addHost, importSshHosts, removeHost } from './hosts.js';
import { copyName, forgetPassphrases, openTerminal, showLog } from './misc.js';
import { refreshAll, refreshHost, retryHost } from './refresh.js';
import { openTimeline, registerTimeline, timelineDebugState } from './timeline.js';
import { addPair, diagnosePair, openPairDefinition, rebaseClone, refreshPairs, removePair, rollbackToSnapshot, showReplicationHistory, syncPair, syncPairWithOptions } from './replication.js';

export const COMMANDS: Record<string, Command> = {
  'zfsFleet.refreshAll': refreshAll,
  'zfsFleet.refreshHost': refreshHost,
  'zfsFleet.retryHost': retryHost,
  'zfsFleet.addHost': addHost,
  'zfsFleet.importSshHosts': importSshHosts,
  'zfsFleet.removeHost': removeHost,
  'zfsFleet.copyName': copyName,
  'zfsFleet.openTerminal': openTerminal,
  'zfsFleet.showLog': showLog,
  'zfsFleet.forgetPassphrases': forgetPassphrases,
  'zfsFleet.addPair': addPair,
  'zfsFleet.removePair': removePair,
  'zfsFleet.refreshPairs': refreshPairs,
  'zfsFleet.openPairDefinition': openPairDefinition,
  'zfsFleet.syncPair': syncPair,
  'zfsFleet.syncPairWithOptions': syncPairWithOptions,
  'zfsFleet.diagnosePair': diagnosePair,
  'zfsFleet.rollbackToSnapshot': rollbackToSnapshot,
  'zfsFleet.rebaseClone': rebaseClone,
  'zfsFleet.showReplicationHistory': showReplicationHistory,
  'zfsFleet.openTimeline': openTimeline,
  'zfsFleet.timeline.debugState': timelineDebugState,
};

export function registerCommands(ctx: FleetContext): vscode.Disposable[] {
  const commands = Object.entries(COMMANDS).map(([id, fn]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(ctx, args[0] as never, args[1] as never);
      } catch (e) {
        if (e instanceof UserCancelled || (e as Error)?.name === 'UserCancelled') return undefined;
        const msg = e instanceof Error ? e.message : String(e);
        ctx.log.error(`${id}: ${msg}`);
        void vscode.window.showErrorMessage(`ZFS Fleet: ${msg}`, 'Show Log').then((b) => b && ctx.log.show());
        return undefined;
      }
    }),
  );
  // The timeline's panels and their serializer (registered at activation: onWebviewPanel restores them).
  return [...commands, ...registerTimeline(ctx)];
}
