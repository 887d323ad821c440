/**
 * Show Timeline: from a pair (Replication view), a dataset, snapshot, bookmark or clone (Hosts view),
 * or the palette (a quick pick of pairs and listed datasets). Opened from a snapshot or bookmark, the
 * timeline centres on that mark. Returns the panel's key (the e2e tests use it with testHooks' debugState).
 */
import * as vscode from 'vscode';
import type { FleetNode } from '../../core/fleet/treeModel.js';
import type { TimelineSubject } from '../../shared/protocol.js';
import type { Command, FleetContext } from '../context.js';
import { healthPairId } from '../health/rows.js';
import { isPairNode, type GroupNode } from '../replication/pairsTree.js';
import { TimelineHost } from '../timeline/panel.js';
import { isFleetNode } from '../selection.js';
import { UserCancelled } from '../userInput.js';

const hosts = new WeakMap<FleetContext, TimelineHost>();

/** The timeline host of this activation (created once, with the serializer). */
export function timelineHost(ctx: FleetContext): TimelineHost {
  let h = hosts.get(ctx);
  if (!h) hosts.set(ctx, (h = new TimelineHost(ctx)));
  return h;
}

/** Registered with the commands: the serializer must exist from activation on (onWebviewPanel:zfsFleet.timeline). */
export function registerTimeline(ctx: FleetContext): vscode.Disposable[] {
  const host = timelineHost(ctx);
  return [host];
}

type Target = { subject: TimelineSubject; focus?: { host: string; name: string } };

function fromNode(n: FleetNode): Target | undefined {
  switch (n.kind) {
    case 'pool':
      return { subject: { kind: 'dataset', host: n.host, dataset: n.pool } };
    case 'dataset':
    case 'clone':
      return { subject: { kind: 'dataset', host: n.host, dataset: n.name } };
    case 'snapshot':
    case 'bookmark':
      return { subject: { kind: 'dataset', host: n.host, dataset: n.name.slice(0, n.name.search(/[@#]/)) }, focus: { host: n.host, name: n.name } };
    case 'snapshots':
    case 'bookmarks':
      return { subject: { kind: 'dataset', host: n.host, dataset: n.dataset } };
    default:
      return undefined;
  }
}

async function pick(ctx: FleetContext): Promise<Target> {
  const pairs = await ctx.replication.pairs.pairs();
  const items: (vscode.QuickPickItem & { target?: Target })[] = [];
  if (pairs.length) items.push({ label: 'Replication pairs', kind: vscode.QuickPickItemKind.Separator });
  for (const v of pairs) {
    const p = v.pair;
    items.push({
      label: `$(arrow-swap) ${p.label ?? p.source.name!.full}`,
      description: `${p.source.host}:${p.source.name!.full} → ${p.target.host}:${p.target.name!.full}`,
      target: { subject: { kind: 'pair', pairId: p.id } },
    });
  }
  for (const h of ctx.fleet.names) {
    const l = ctx.tree.model.listing(h);
    if (!l) continue;
    const ds = [...l.datasets.values()].filter((e) => e.snapshots.length > 0 || e.bookmarks.length > 0);
    if (ds.length === 0) continue;
    items.push({ label: h, kind: vscode.QuickPickItemKind.Separator });
    for (const e of ds)
      items.push({
        label: `$(folder) ${e.object.name}`,
        description: `${h} · ${e.snapshots.length} snapshot${e.snapshots.length === 1 ? '' : 's'}`,
        target: { subject: { kind: 'dataset', host: h, dataset: e.object.name } },
      });
  }
  if (!items.some((i) => i.target)) throw new Error('Nothing to show yet: add a replication pair, or wait until the hosts are listed in the Hosts view.');
  const chosen = await ctx.input.quickPick(items, {
    title: 'Show Timeline',
    placeHolder: 'A replication pair, or a dataset with snapshots',
    matchOnDescription: true,
  });
  if (!chosen?.target) throw new UserCancelled();
  return chosen.target;
}

function isGroupNode(x: unknown): x is GroupNode {
  return !!x && typeof x === 'object' && (x as GroupNode).kind === 'group' && Array.isArray((x as GroupNode).members) && (x as GroupNode).members.length > 0;
}

export const openTimeline: Command = async (ctx, node) => {
  const arg: unknown = node;
  let t: Target | undefined;
  const healthPair = healthPairId(arg);
  if (healthPair !== undefined) t = { subject: { kind: 'pair', pairId: healthPair } };
  else if (isGroupNode(arg)) {
    // A group: its primary's timeline, a lane per member (the primary, then each replica).
    const primary = arg.members[0]!.entry.pair.source;
    t = { subject: { kind: 'dataset', host: primary.host, dataset: primary.name!.full } };
  } else if (isPairNode(arg)) t = { subject: { kind: 'pair', pairId: arg.entry.pair.id } };
  else if (typeof arg === 'string') t = { subject: { kind: 'pair', pairId: arg } };
  else if (isFleetNode(arg)) t = fromNode(arg);
  else if (arg && typeof arg === 'object' && 'subject' in arg) t = arg as Target;
  if (!t) t = await pick(ctx);
  return timelineHost(ctx).open(t.subject, t.focus).key;
};
