/** What every command gets: the services built in activate(). */
import type * as vscode from 'vscode';
import type { App } from '../app/services.js';
import type { Fleet } from '../core/fleet/fleet.js';
import type { Logger } from '../core/log.js';
import type { FleetHealth } from './health/view.js';
import type { Replication } from './replication/service.js';
import type { FleetTreeProvider, FleetNode } from './tree.js';
import type { UserInput } from './userInput.js';

export interface FleetContext {
  extension: vscode.ExtensionContext;
  fleet: Fleet;
  tree: FleetTreeProvider;
  view: vscode.TreeView<FleetNode>;
  /** The ZFS Fleet log channel; messages reach it with host control bytes escaped (safeLogger). */
  log: Logger & { show(preserveFocus?: boolean): void };
  input: UserInput;
  /** The Replication view, plan documents, history (src/ui/replication). */
  replication: Replication;
  /** The Fleet Health view and its status bar item (src/ui/health). */
  health: FleetHealth;
  /** The application layer's services (src/app): every plan flow goes through it. */
  app: App;
}

export type Command = (ctx: FleetContext, node?: FleetNode, nodes?: FleetNode[]) => Promise<unknown> | unknown;
