/** The application layer's services as the extension provides them: listings through the tree model (the views redraw), the Replication view's pairs, workspace trust. */
import * as vscode from 'vscode';
import type { App } from '../app/services.js';
import type { HostListing } from '../core/fleet/listing.js';
import type { FleetContext } from './context.js';
import { sshFor } from './replication/planFlow.js';
import { readSettings } from './settings.js';
import { queueViewOf } from './queue/view.js';

export function extensionApp(ctx: Omit<FleetContext, 'app'>): App {
  return {
    fleet: ctx.fleet,
    get zfs() {
      return readSettings().zfsPath;
    },
    logger: ctx.log,
    history: ctx.replication.history,
    freshListings: async (hosts) => {
      const unique = [...new Set(hosts)];
      const states = await Promise.all(unique.map((h) => ctx.tree.model.loadHost(h, true)));
      const byHost = new Map<string, HostListing>();
      states.forEach((s, i) => {
        if (s.state === 'error') throw new Error(`${unique[i]} cannot be listed: ${s.error.message}`);
        if (s.state === 'ok') byHost.set(unique[i]!, s.listing);
      });
      return hosts.map((h) => byHost.get(h)!);
    },
    configuredPairs: async () => (await ctx.replication.pairs.allNodes()).flatMap((n) => (n.kind === 'pair' ? [n.entry.pair] : [])),
    requireTrust: (what) => ctx.replication.requireTrust(what),
    ssh: sshFor,
    queue: () => queueViewOf(ctx).queue(),
    // Through the workspace's file system, so an editor showing the fleet file shows the new text; the pairs follow.
    editFleetFile: async (file, edit) => {
      // The pairs name a workspace fleet file as shown (`.zfs-fleet.json`, or `folder/.zfs-fleet.json`).
      const uri = ctx.replication.pairs.fileUri(file);
      if (!uri) throw new Error(`${file} is not a fleet file of this workspace`);
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(edit(text)));
      await ctx.replication.pairs.reload();
    },
    afterRun: async (plan) => {
      await Promise.all(plan.hosts.map((h) => ctx.tree.loadHost(h, true)));
      await ctx.replication.pairs.historyChanged();
    },
  };
}
