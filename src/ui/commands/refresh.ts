import { mapLimit } from '../../core/fleet/fleet.js';
import type { Command } from '../context.js';
import { readSettings } from '../settings.js';
import { selection } from '../selection.js';

export const refreshAll: Command = async (ctx) => {
  const { hostConcurrency } = readSettings();
  await mapLimit(ctx.fleet.names, hostConcurrency, (h) => ctx.tree.loadHost(h, true));
};

/** The Fleet Health view's Refresh: list every host again and judge the fleet (the Hosts and Replication views update too). */
export const refreshHealth: Command = async (ctx) => ctx.health.refresh(true);

/** Refresh the selected hosts (or the host of the selected node). */
export const refreshHost: Command = async (ctx, node, nodes) => {
  const hosts = new Set(selection(node, nodes).map((n) => n.host));
  await Promise.all([...hosts].map((h) => ctx.tree.loadHost(h, true)));
};

/** Drop the connection and the cache, connect again. */
export const retryHost: Command = async (ctx, node) => {
  if (!node) return;
  ctx.fleet.reconnect(node.host);
  await ctx.tree.loadHost(node.host, true);
};
