/**
 * What the timeline's context actions do: reveal the mark in the Hosts view, copy its name, roll
 * back to it (the Roll Back command), rebase the clones of it (the Rebase Clone command, per clone),
 * and "sync up to here": the pair's sync plan with `upTo` through the same plan -> preview ->
 * confirm flow (planFlow.reviewAndRun) as Sync Pair. They return what happened (tests read it).
 */
import * as vscode from 'vscode';
import type { HostListing } from '../../core/fleet/listing.js';
import type { ReplicationPair } from '../../core/fleet/pairs.js';
import { PlanError, type Plan } from '../../core/replication/plan.js';
import { planSync } from '../../core/replication/sync.js';
import type { TimelineAction, TimelineLane, TimelineMark, TimelineModel } from '../../shared/protocol.js';
import type { FleetContext } from '../context.js';
import { syncFacts } from '../replication/facts.js';
import { reviewAndRun, type BlockedAction, type FlowResult } from '../replication/planFlow.js';
import { readSettings } from '../settings.js';
import { UserCancelled } from '../userInput.js';
import { findNode } from './nodes.js';

export interface ActionRequest {
  action: TimelineAction;
  model: TimelineModel;
  lane: TimelineLane;
  mark: TimelineMark;
  pairs: readonly ReplicationPair[];
}

export function fullName(lane: TimelineLane, mark: TimelineMark): string {
  return `${lane.dataset}${mark.kind === 'bookmark' ? '#' : '@'}${mark.name}`;
}

export async function runTimelineAction(ctx: FleetContext, r: ActionRequest): Promise<unknown> {
  const name = fullName(r.lane, r.mark);
  const host = r.lane.host;
  switch (r.action) {
    case 'copyName':
      await vscode.env.clipboard.writeText(name);
      return name;
    case 'reveal': {
      const node = findNode(ctx.tree.model, host, name, r.mark.kind);
      if (!node) throw new Error(`${host}: ${name} is not in the Hosts view (is ${host} in zfsFleet.hosts and listed?)`);
      await ctx.view.reveal(node, { select: true, focus: true, expand: false });
      return node.id;
    }
    case 'rollbackTo': {
      if (r.mark.kind !== 'snapshot') throw new Error(`${name} is a bookmark: a dataset can only be rolled back to a snapshot`);
      const node = findNode(ctx.tree.model, host, name, 'snapshot') ?? { kind: 'snapshot', id: `timeline:${host}:${name}`, host, name };
      return vscode.commands.executeCommand('zfsFleet.rollbackToSnapshot', node);
    }
    case 'rebaseClones': {
      const clones = r.mark.clones ?? [];
      if (clones.length === 0) throw new Error(`${host}: no dataset is cloned from ${name}`);
      let chosen = clones;
      if (clones.length > 1) {
        const pick = await ctx.input.quickPick(
          [{ label: `All ${clones.length} clones`, description: 'one after the other', all: true }, ...clones.map((c) => ({ label: c, description: `clone of @${r.mark.name}`, all: false }))],
          { title: `Re-base which clone of ${name}?` },
        );
        if (!pick) throw new UserCancelled();
        chosen = pick.all ? clones : [pick.label];
      }
      const results: unknown[] = [];
      for (const c of chosen) {
        const node = findNode(ctx.tree.model, host, c, 'clone') ?? { kind: 'clone', id: `timeline:${host}:${c}`, host, name: c, origin: name };
        results.push(await vscode.commands.executeCommand('zfsFleet.rebaseClone', node));
      }
      return results.length === 1 ? results[0] : results;
    }
    case 'syncTo': {
      if (r.mark.kind !== 'snapshot') throw new Error(`${name} is a bookmark: a sync goes up to a snapshot`);
      const pair = await pairFor(ctx, r);
      return syncUpTo(ctx, pair, r.mark.name);
    }
  }
}

/** The pair a "sync up to here" on a lane means: one whose source is that lane (asked when several are). */
async function pairFor(ctx: FleetContext, r: ActionRequest): Promise<ReplicationPair> {
  const candidates = r.pairs.filter((p) => p.source.host === r.lane.host && p.source.name?.full === r.lane.dataset);
  // The timeline's own pair first.
  candidates.sort((a, b) => (a.id === r.model.pairId ? -1 : b.id === r.model.pairId ? 1 : 0));
  if (candidates.length === 0) throw new Error(`${r.lane.id} is not the source of a replication pair: "Sync up to here" works on a source's snapshots.`);
  if (candidates.length === 1) return candidates[0]!;
  const pick = await ctx.input.quickPick(
    candidates.map((p) => ({ label: p.label ?? `${p.target.host}:${p.target.name!.full}`, description: `${p.source.host}:${p.source.name!.full} → ${p.target.host}:${p.target.name!.full}`, p })),
    { title: `Sync @${r.mark.name} to which replica?` },
  );
  if (!pick) throw new UserCancelled();
  return pick.p;
}

/** Fresh listings of both hosts (both views redraw); a host that cannot be listed fails with its reason. */
async function freshListings(ctx: FleetContext, hosts: string[]): Promise<HostListing[]> {
  const unique = [...new Set(hosts)];
  const states = await Promise.all(unique.map((h) => ctx.tree.model.loadHost(h, true)));
  const byHost = new Map<string, HostListing>();
  states.forEach((s, i) => {
    if (s.state === 'error') throw new Error(`${unique[i]} cannot be listed: ${s.error.message}`);
    if (s.state === 'ok') byHost.set(unique[i]!, s.listing);
  });
  return hosts.map((h) => byHost.get(h)!);
}

/**
 * "Sync up to here": Sync Pair's flow (src/ui/commands/replication.ts syncFlow) with `upTo`: plan
 * from fresh listings, then preview, modal confirmation and run (or Send to Terminal) in planFlow.
 * A blocked plan offers the Rebase Clone command for each clone in the way, and Diagnose Pair.
 */
export async function syncUpTo(ctx: FleetContext, pair: ReplicationPair, upTo: string): Promise<FlowResult | undefined> {
  ctx.replication.requireTrust('Sync up to here');
  const [src, dst] = await freshListings(ctx, [pair.source.host, pair.target.host]);
  const facts = await syncFacts(ctx, pair);
  let plan: Plan;
  try {
    plan = planSync(pair, src!, dst!, { upTo, zfs: readSettings().zfsPath, ...(facts ? { facts } : {}) });
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    ctx.log.warn(`cannot sync ${pair.id} up to @${upTo}: ${e.reason}`);
    void ctx.input.error(`Cannot sync ${pair.label ?? pair.id} up to @${upTo}: ${e.reason}`, 'Diagnose Pair').then((b) => b && vscode.commands.executeCommand('zfsFleet.diagnosePair', pair.id));
    return undefined;
  }
  const blockedActions: BlockedAction[] = [];
  if (plan.blockedBy) {
    for (const c of plan.blockedBy.clones) {
      blockedActions.push({
        label: plan.blockedBy.clones.length > 1 ? `Re-base ${c.name} onto…` : 'Re-base Clone onto…',
        run: async () => {
          const r = (await vscode.commands.executeCommand('zfsFleet.rebaseClone', { kind: 'clone', id: `timeline:${c.host}:${c.name}`, host: c.host, name: c.name, origin: '' })) as FlowResult | undefined;
          if (r?.choice === 'run' && r.result?.outcome === 'ok') r.next = await syncUpTo(ctx, pair, upTo);
          return r;
        },
      });
    }
    blockedActions.push({ label: 'Diagnose Pair', run: async () => ((await vscode.commands.executeCommand('zfsFleet.diagnosePair', pair.id)) as { flow?: FlowResult } | undefined)?.flow });
  }
  return reviewAndRun(ctx, plan, { pairId: pair.id, replan: () => syncUpTo(ctx, pair, upTo), blockedActions });
}
