/**
 * Test-only hooks, in one module: they exist only when the extension host runs with
 * ZFS_FLEET_TEST=1 (the e2e suites). Nothing here is contributed in package.json or reachable
 * otherwise: the commands are not registered and activate() returns no API.
 */
import * as vscode from 'vscode';
import type { FleetContext } from './context.js';
import { timelineHost } from './commands/timeline.js';
import { vscodeUserInput, type UserInput } from './userInput.js';

export const TESTING = process.env.ZFS_FLEET_TEST === '1';

/** Returned by activate() only when ZFS_FLEET_TEST=1: the e2e suites script the UI through it. */
export interface TestApi {
  ctx: FleetContext;
  setUserInput(input: UserInput | undefined): void;
}

export function testApi(ctx: FleetContext): TestApi | undefined {
  if (!TESTING) return undefined;
  return { ctx, setUserInput: (i) => (ctx.input = i ?? vscodeUserInput) };
}

/** `zfsFleet.timeline.debugState` (every open timeline, its last model, what the webview reported rendering) and `debugPost` (a message into a panel's handler, exactly as if the webview had posted it). */
export function registerTestCommands(ctx: FleetContext): vscode.Disposable[] {
  if (!TESTING) return [];
  const host = timelineHost(ctx);
  return [
    vscode.commands.registerCommand('zfsFleet.timeline.debugState', () => host.all().map((p) => p.state())),
    vscode.commands.registerCommand('zfsFleet.timeline.debugPost', (key: string, message: unknown) => host.get(key)?.receive(message)),
  ];
}
